# asr.process_server script: registration_read v1
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# On a CONFIGURATION SERVER: which machines are registered with it and when each last sent a heartbeat, READ-ONLY,
# from its database -- the source Microsoft documents for exactly that [5] (configuration-server troubleshooting,
# "Remove the stale entries ..."): in the MySQL command line, `use svsdb1;` then
#   select id as hostid, name, ipaddress, ostype as operatingsystem, from_unixtime(lasthostupdatetime) as heartbeat
#   from hosts where name!='InMageProfiler'
# The query below is that one plus the process-server columns of the same table the product itself judges a
# process server's heartbeat by (SRC AzMigrate-Hydration 572a86a96d server/db/svsdb.sql hosts.processServerEnabled
# and the DATETIME lastHostUpdateTimePs; admin/web/ScoutAPI/*Handler.php raises EC_NO_PS_HEART_BEAT after 900 s),
# with the ages computed by the database's own clock. It runs inside a READ ONLY transaction (MySQL >= 5.6.5; the
# configuration server has MySQL 5.7 [2.1]), so even a mistaken statement could not write.
#
# The client: <MYSQL_PATH>\bin\mysql.exe, MYSQL_PATH from amethyst.conf, else the folder MySQL's installer
# registered (HKLM\SOFTWARE\Wow6432Node\MySQL AB\MySQL Server 5.7, Location) -- SRC ucx_server_setup.iss.
# The account: DatabaseUser/DatabasePassword when the task gives them (the password as a SecureString), else the
# one the configuration server itself uses, DB_USER/DB_PASSWD of amethyst.conf [6.5] (SRC server/tm/etc/
# amethyst.conf: "svsystems"; never DB_ROOT_USER). The password never goes on a command line and is never written
# anywhere: it is handed to mysql.exe in that child process's environment only (MYSQL_PWD, MySQL 5.7 manual 4.9),
# which only the same account and administrators can read, as they could a protected file; nothing is created on
# the host, so check mode changes nothing. It is never returned. What is missing (no client, no credentials) is
# reported, not thrown, so the controller can say what to do. Never starts Unregister-ASRComponent.pl or anything
# else that can change the configuration server (ARCHITECTURE.md decision 9). See docs/runbooks/registrations.md.
# The read itself is the svsdb_read fragment (diagnose makes the same one). The lab runs this text under pwsh
# (lab/scripts.py).
[CmdletBinding(SupportsShouldProcess)]
param (
    [string]$DatabaseUser = '',
    [System.Security.SecureString]$DatabasePassword
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

# asr.process_server include: native_command

# asr.process_server include: shared_text

# asr.process_server include: secure_text

# asr.process_server include: svsdb_read

# read-only: starts only mysql.exe, for one SELECT inside a READ ONLY transaction (the svsdb_read fragment)
$read = Read-RegistrationTable -DatabaseUser $DatabaseUser -DatabasePassword $DatabasePassword
$Ansible.Result = ConvertTo-Json -InputObject $read -Compress
