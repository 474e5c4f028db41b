# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# What the modules that run on the configuration server and read its registrations share (registration_info,
# unregister): the MySQL account they use (kept equal to plugin_utils/domain/argument_specs.py DATABASE by
# tests/unit/plugins/test_docs_match_spec.py), how they read, and the action group's configuration_server_ip, which
# they do not use. Listed before asr.process_server.common, whose configuration_server_ip it replaces (what is
# merged first wins).


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  configuration_server_ip:
    description:
      - B(Deprecated), ignored - this module runs on the configuration server itself and reads its own database.
        Removed from this module in release 1.0.0 of the collection (see the notes on the group's shared options).
    type: str
  database_user:
    description:
      - MySQL account to read the configuration server's database with (C(svsdb1), table C(hosts)).
      - Omit it (with O(database_password)) to use the account the configuration server itself uses,
        C(DB_USER) and C(DB_PASSWD) of C(%ProgramData%\ASR\home\svsystems\etc\amethyst.conf), read on the
        configuration server and never sent to the controller.
      - A dedicated account that may only C(SELECT) on C(svsdb1.hosts) is the least privilege; see the
        collection's runbook C(docs/runbooks/registrations.md).
    type: str
  database_password:
    description:
      - Password of O(database_user); required with it.
      - Never on a command line, never written to a file, never returned; the configuration server hands it to
        C(mysql.exe) in that process's environment only (C(MYSQL_PWD)).
    type: str
notes:
  - B(How the registrations are read) - on the configuration server, C(<MYSQL_PATH>\bin\mysql.exe) (C(MYSQL_PATH)
    of amethyst.conf, else the folder in C(HKLM\SOFTWARE\Wow6432Node\MySQL AB\MySQL Server 5.7) C(Location))
    runs one C(SELECT) of C(svsdb1.hosts) inside a C(READ ONLY) transaction - the query Microsoft documents for
    "the list of registered machines with their IP addresses and last heartbeat", plus the process-server columns
    C(processserverenabled) and C(lasthostupdatetimeps) (the process server's own heartbeat) of the same table.
    Nothing else is started; in particular never C(Unregister-ASRComponent.pl), which purges.
  - B(Unconfirmed on a real configuration server) - the key names, the client path and that process servers
    have rows with that heartbeat come from Microsoft's documentation and the published product source, not from
    a live server. The runbook C(docs/runbooks/registrations.md) gives the read to try by hand first.
"""
