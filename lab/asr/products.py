"""The ASR components as they appear on a host once installed (and disappear when removed).

Shared by Unified Setup (install/upgrade), the uninstallers and the seeds, so a seeded host looks exactly like
one the emulated installer built. Every artefact cites the reference section that documents it; where the
reference leaves a detail open the lab's choice is marked LAB-CHOSEN.
"""

from __future__ import annotations

import uuid
from typing import Any

from lab.asr import constants as c
from lab.state import Host

# LAB-CHOSEN disk use per component (the reference gives none): GB taken from the drive that holds it.
DISK_GB = {"dependencies": 1.0, "csps": 2.0, "mt": 1.0, "mars": 0.5, "cs_extra": 3.0}

COMPONENTS = ("dependencies", "csps", "mt", "mars")  # [1.3] SRC InstallComponents order in PS mode
DISPLAY_NAMES = {
    "dependencies": c.DN_DEPENDENCIES,
    "csps": c.DN_CSPS,
    "mt": c.DN_MT,
    "mars": c.DN_MARS,
    "provider": c.DN_PROVIDER,
    "mysql": c.DN_MYSQL,
}
UNINSTALL_KEYS = {
    "dependencies": c.KEY_DEPENDENCIES,
    "csps": c.KEY_CSPS,
    "mt": c.KEY_MT,
    "mars": c.KEY_MARS,
    "provider": c.KEY_PROVIDER,
    "mysql": c.KEY_MYSQL,
}


def marker(kind: str, version: str) -> str:
    """Content of a lab executable/binary file: what it is and the build it belongs to."""
    return f"ASR-LAB-{kind}\nversion={version}\n"


def marker_version(content: bytes | str, kind: str | None = None) -> str | None:
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
    lines = text.splitlines()
    if not lines or not lines[0].startswith("ASR-LAB-"):
        return None
    if kind is not None and lines[0] != f"ASR-LAB-{kind}":
        return None
    for line in lines[1:]:
        if line.startswith("version="):
            return line.split("=", 1)[1].strip()
    return None


# ---- paths ---------------------------------------------------------------------------------------------
def join(base: str, *parts: str) -> str:
    out = base.rstrip("\\")
    for part in parts:
        out += "\\" + part.strip("\\")
    return out


def svsystems(install_location: str) -> str:
    return join(install_location, "home", "svsystems")  # [1.3] SRC: CS/PS files in <InstallLocation>\home\svsystems


def agent_dir(install_location: str) -> str:
    return join(install_location, "agent")  # [1.3] SRC: agent subfolder agent\


def install_location(host: Host) -> str | None:
    """Where Unified Setup put the ASR components ([6.5] App.conf INSTALLATION_PATH, [6.4] InstallDirectory)."""
    loc = host.asr.get("install_location")
    if loc:
        return loc
    home = host.reg_get(c.REG_INSTALLED_CSPS, "InstallDirectory")
    if home and home.lower().endswith("\\home\\svsystems"):
        return home[: -len("\\home\\svsystems")] or None
    return None


# ---- what is installed ---------------------------------------------------------------------------------
def uninstall_key(component: str) -> str:
    return join(c.UNINSTALL_ROOT, UNINSTALL_KEYS[component])


def installed_products(host: Host) -> list[dict[str, Any]]:
    """Add/Remove Programs entries under the Wow6432Node Uninstall key ([6.1] SRC IsSoftwareInstalledWow6432)."""
    out = []
    for sub in host.reg_subkeys(c.UNINSTALL_ROOT):
        values = host.reg_values(join(c.UNINSTALL_ROOT, sub))
        if "DisplayName" in values:
            out.append({"key": sub, **values})
    return out


def find_product(host: Host, display_name: str) -> dict[str, Any] | None:
    # [6.1] SRC ValidationHelper.cs: setup finds products by DisplayName *contains*. "Configuration/Process Server"
    # is contained in "... Dependencies", so an exact match is preferred before falling back to "contains".
    products = installed_products(host)
    for product in products:
        if product["DisplayName"].lower() == display_name.lower():
            return product
    for product in products:
        if display_name.lower() in product["DisplayName"].lower():
            return product
    return None


def installed_version(host: Host, component: str) -> str | None:
    product = host.reg_values(uninstall_key(component))
    return product.get("DisplayVersion") if product.get("DisplayName") else None


def installed_versions(host: Host) -> dict[str, str]:
    out = {}
    for component in (*COMPONENTS, "provider", "mysql"):
        version = installed_version(host, component)
        if version:
            out[component] = version
    return out


def cx_type(host: Host) -> int | None:
    value = host.reg_get(c.REG_INSTALLED_CSPS, "CX_TYPE")
    return None if value is None else int(value)


def is_configuration_server(host: Host) -> bool:
    return cx_type(host) in (1, 3)  # [6.4] 1 CSOnly, 3 CSAndPS


# ---- uninstall entries ---------------------------------------------------------------------------------
def _entry(host: Host, component: str, version: str, uninstall: str, quiet: str | None, location: str) -> None:
    key = uninstall_key(component)
    host.reg_delete_key(key)
    host.reg_set(key, "DisplayName", DISPLAY_NAMES[component])
    host.reg_set(key, "DisplayVersion", version)
    host.reg_set(key, "Publisher", "Microsoft Corporation")  # lab decision: the reference is silent on Publisher
    host.reg_set(key, "InstallLocation", location)
    host.reg_set(key, "UninstallString", uninstall)
    if quiet:  # Inno Setup writes QuietUninstallString; Windows Installer products do not
        host.reg_set(key, "QuietUninstallString", quiet)
    host.reg_set(key, "InstallDate", _install_date(host))


def _install_date(host: Host) -> str:
    import time

    return time.strftime("%Y%m%d", time.gmtime(host.now()))


def _disk(host: Host, path: str, gigabytes: float) -> None:
    disk = host.disk_of(path)
    if disk is not None:
        host.consume_disk(disk["letter"], gigabytes)


def _free_disk(host: Host, path: str, gigabytes: float) -> None:
    disk = host.disk_of(path)
    if disk is not None:
        entry = host.data["disks"][disk["letter"]]
        entry["free_gb"] = round(min(entry["size_gb"], entry["free_gb"] + gigabytes), 3)


def _services(host: Host, table: list[tuple[str, str, str]], folder: str, *, start: bool = True) -> None:
    for name, display, mode in table:
        binary = join(folder, name.replace(" ", "") + ".exe")
        host.write_file(binary, marker("SERVICE-" + name.replace(" ", "_").upper(), ""))
        host.add_service(name, display, f'"{binary}"', start_mode=mode, state="stopped")
        if start:
            host.set_service_state(name, "running")


# ---- Dependencies ([6.2], [6.4] Installed Products\10) --------------------------------------------------
def install_dependencies(host: Host, version: str) -> None:
    folder = c.THIRDPARTY_DIR  # [6.2] SRC cx_thirdparty_setup.iss default C:\thirdparty
    fresh = installed_version(host, "dependencies") is None
    unins = join(folder, "unins000.exe")
    host.write_file(unins, marker("INNO-UNINSTALLER", version))
    host.write_file(c.PERL_EXE, marker("PERL", "5"))
    _entry(host, "dependencies", version, f'"{unins}"', f'"{unins}" /SILENT', folder)
    host.reg_set(c.REG_INSTALLED_DEPENDENCIES, "Build_Version", version)  # [6.4] \10 = Dependencies
    host.reg_set(c.REG_INSTALLED_DEPENDENCIES, "InstallDirectory", folder)
    if fresh:
        _disk(host, folder, DISK_GB["dependencies"])


def remove_dependencies(host: Host) -> None:
    host.reg_delete_key(uninstall_key("dependencies"))
    host.reg_delete_key(c.REG_INSTALLED_DEPENDENCIES)
    host.remove(c.THIRDPARTY_DIR)
    _free_disk(host, c.THIRDPARTY_DIR, DISK_GB["dependencies"])


# ---- Configuration/Process Server ([1.3], [6.3], [6.4], [6.5]) -----------------------------------------
def install_csps(
    host: Host,
    version: str,
    *,
    mode: str,
    location: str,
    cs_ip: str,
    ps_ip: str,
    data_port: int,
    proxy_type: str,
    env_type: str,
    host_guid: str | None = None,
    start_services: bool = True,
) -> str:
    """Install (or re-install at ``version``) the CS/PS component; returns the host GUID."""
    home = svsystems(location)
    fresh = installed_version(host, "csps") is None
    guid = host_guid or host.asr.get("host_guid") or str(uuid.uuid4()).upper()
    host.asr["host_guid"] = guid
    host.asr["install_location"] = location
    host.mkdir(location)
    for sub in ("bin", "etc", "var", "transport", "transport\\log", "pushinstallsvc\\repository"):
        host.mkdir(join(home, sub))
    # [3.3] SRC ucx_server_setup.iss: junction C:\ProgramData\ASR -> <InstallLocation>
    host.make_junction(c.ASR_JUNCTION, location)
    host.write_file(c.APP_CONF, f'INSTALLATION_PATH = "{location}"\r\n')  # [6.5]
    cx = c.CX_TYPE[mode]
    # [6.5] amethyst.conf keys (SRC confsettings.h); LAB-CHOSEN `KEY = "value"` line format
    amethyst = {
        "HOST_GUID": guid,
        "PS_IP": ps_ip,
        "PS_CS_IP": cs_ip,
        "PS_CS_PORT": str(c.CS_PORT),
        "PS_CS_SECURED_COMMUNICATION": "1",
        "CS_IP": cs_ip,
        "CS_PORT": str(c.CS_PORT),
        "CX_TYPE": str(cx),
        "INSTALLATION_DIR": home,
    }  # the data port is not an amethyst.conf key in [6.5]: it lives in cxps.conf ssl_port below
    host.write_file(join(home, "etc", "amethyst.conf"), "".join(f'{k} = "{v}"\r\n' for k, v in amethyst.items()))
    # [6.5] transport\cxps.conf section [cxps]
    cxps = {
        "id": guid,
        "ssl_port": str(data_port),
        "cs_ip_address": cs_ip,
        "cs_ssl_port": str(c.CS_PORT),
        "install_dir": join(home, "transport"),
        "allowed_dirs": home,
    }
    host.write_file(
        join(home, "transport", "cxps.conf"), "[cxps]\r\n" + "".join(f"{k} = {v}\r\n" for k, v in cxps.items())
    )
    host.write_file(
        join(home, "pushinstallsvc", "pushinstaller.conf"), f"[PushInstaller]\r\nHostId={guid}\r\n"
    )  # [6.5]
    for log in ("var\\tmansvc.log", "pushinstallsvc\\pushinstallservice.log", "transport\\log\\cxps.err.log"):
        if not host.is_file(join(home, log)):  # [1.5] runtime logs under <svsystems>
            host.write_file(join(home, log), "")
    for tool in ("cxpsclient.exe", "genpassphrase.exe", "cspsconfigtool.exe"):  # [7.5], [3.2], [3.3]
        host.write_file(join(home, "bin", tool), marker(tool.upper(), version))
    unins = join(home, "unins000.exe")  # Inno puts its uninstaller in {app} = the /DIR given ([1.3])
    host.write_file(unins, marker("INNO-UNINSTALLER", version))
    _entry(host, "csps", version, f'"{unins}"', f'"{unins}" /SILENT', home)
    # [6.4] Installed Products\9
    key = c.REG_INSTALLED_CSPS
    host.reg_set(key, "Product_Name", "Caspian CX")
    host.reg_set(key, "InstallDirectory", home)
    host.reg_set(key, "CX_TYPE", cx, "DWord")
    host.reg_set(key, "Build_Version", version)
    host.reg_set(key, "Proxy_Type", proxy_type)
    if mode == "CS":
        host.reg_set(key, "CsIpAddress", cs_ip)
        host.reg_set(key, "CsPort", str(c.CS_PORT))
        host.reg_set(key, "CsProtocol", "https")
    host.reg_set(c.REG_PS_MODE, "CS Mode", "LegacyCS")  # [6.4] ucx_server_setup.iss
    host.asr["env_type"] = env_type
    _services(host, c.SERVICES_CSPS, join(home, "bin"), start=start_services)
    if fresh:
        _disk(host, location, DISK_GB["csps"])
    return guid


def remove_csps(host: Host) -> None:
    location = install_location(host)
    home = host.reg_get(c.REG_INSTALLED_CSPS, "InstallDirectory") or (svsystems(location) if location else None)
    for name, _, _ in c.SERVICES_CSPS:
        host.remove_service(name)
    host.reg_delete_key(uninstall_key("csps"))
    host.reg_delete_key(c.REG_INSTALLED_CSPS)
    host.reg_delete_key(c.REG_PS_MODE)
    if home:
        host.remove(home)
        _free_disk(host, home, DISK_GB["csps"])
    # [UNCONFIRMED] whether the CS/PS uninstaller removes the C:\ProgramData\ASR junction: the lab leaves it (the
    # agent folder it leads to may still be in use by the Master Target).


# ---- Mobility Service / Master Target ([1.3], [6.1], [6.5]) ----------------------------------------------
def install_mt(host: Host, version: str, *, location: str, cs_ip: str, start_services: bool = True) -> None:
    agent = agent_dir(location)
    fresh = installed_version(host, "mt") is None
    host.write_file(join(agent, "cdpcli.exe"), marker("CDPCLI", version))  # [1.3] <InstallLocation>\agent\cdpcli.exe
    # [6.5] drscout.conf: [UNCONFIRMED] absolute path, likely <InstallLocation>\agent\Application Data\etc\drscout.conf;
    # LAB-CHOSEN keys.
    drscout = join(agent, "Application Data", "etc", "drscout.conf")
    host.write_file(
        drscout,
        "[vxagent.transport]\r\n"
        f"Hostname={cs_ip}\r\nPort={c.CS_PORT}\r\nHttps=1\r\n"
        f"[vxagent]\r\nHostId={host.asr.get('host_guid', '')}\r\nInstallDirectory={agent}\r\n",
    )
    msi_uninstall = f"MsiExec.exe /X{c.MT_PRODUCT_CODE}"
    _entry(host, "mt", version, msi_uninstall, None, agent)
    _services(host, c.SERVICES_MT, agent, start=start_services)
    if fresh:
        _disk(host, location, DISK_GB["mt"])


def remove_mt(host: Host) -> None:
    location = install_location(host)
    for name, _, _ in c.SERVICES_MT:
        host.remove_service(name)
    host.reg_delete_key(uninstall_key("mt"))
    if location:
        host.remove(agent_dir(location))
        _free_disk(host, location, DISK_GB["mt"])
    host.asr.pop("mt_registered_with", None)


# ---- MARS agent ([1.3], [6.3], [6.6]) ------------------------------------------------------------------
def install_mars(host: Host, version: str, *, start_services: bool = True) -> None:
    fresh = installed_version(host, "mars") is None
    folder = c.MARS_DIR
    host.write_file(join(folder, "bin", "cbengine.exe"), marker("CBENGINE", version))  # [7.5]
    host.write_file(
        join(folder, "bin", "Modules", "MSOnlineBackup", "MSOnlineBackup.psd1"),  # [6.6] SRC SetMarsProxy
        f"@{{ ModuleVersion = '{version}' }}\r\n",
    )
    host.mkdir(join(folder, "Temp"))
    host.reg_set(c.REG_MARS_SETUP, "InstallPath", folder + "\\")  # [6.6] SRC SetMarsProxy reads InstallPath here
    _entry(host, "mars", version, f"MsiExec.exe /X{c.MARS_PRODUCT_CODE_LAB}", None, folder)
    _services(host, c.SERVICES_MARS, join(folder, "bin"), start=start_services)
    if fresh:
        _disk(host, folder, DISK_GB["mars"])


def remove_mars(host: Host) -> None:
    for name, _, _ in c.SERVICES_MARS:
        host.remove_service(name)
    host.reg_delete_key(uninstall_key("mars"))
    host.reg_delete_key(c.REG_MARS_SETUP)
    host.remove(c.MARS_DIR)
    _free_disk(host, c.MARS_DIR, DISK_GB["mars"])
    host.asr.pop("mars_proxy", None)
    host.asr.pop("mars_proxy_effective", None)


# ---- CS-only pieces ([1.3] Provider (DRA), MySQL, [6.3] W3SVC/MySQL/dra, [5] Unregister-ASRComponent.pl) --
UNREGISTER_SCRIPT = "Unregister-ASRComponent.pl"


def install_cs_extras(
    host: Host, version: str, *, location: str, mysql_passwords: tuple[str, str] | None = None
) -> None:
    """The CS-only pieces; ``mysql_passwords`` = (root, svsystems) from the MySQL credentials file [8] (a fresh
    install), None to keep the accounts the CS has (an upgrade) or to use the LAB defaults (a seed)."""
    home = svsystems(location)
    # [2.1] DOC: the CS downloads mysql-installer-community-5.7.20.0.msi. lab decision: the reference is silent on
    # the Provider's and MySQL's uninstall strings; these are LAB values (the folder is SRC my.ini's basedir).
    if installed_version(host, "mysql") is None:  # [2.1] upgrading MySQL on the CS is not supported: keep it
        _entry(host, "mysql", "5.7.20", "MsiExec.exe /X{LAB-MYSQL}", None, c.MYSQL_BASEDIR)
    install_mysql(host, home, mysql_passwords)
    _entry(
        host,
        "provider",
        version,
        "MsiExec.exe /X{LAB-DRA}",
        None,
        r"C:\Program Files\Microsoft Azure Site Recovery Provider",
    )
    _services(host, c.SERVICES_CS_ONLY, join(home, "bin"))
    # [5] DOC: the script is run from %ProgramData%\ASR\home\svsystems\bin on the CS (absent from SRC: its body is
    # LAB-ONLY; perl runs the lab's emulation of it).
    host.write_file(join(home, "bin", UNREGISTER_SCRIPT), "# ASR-LAB Unregister-ASRComponent.pl\n")
    host.asr.setdefault("registered_process_servers", {})
    if installed_version(host, "csps") and not host.asr.get("cs_extras_disk"):
        _disk(host, location, DISK_GB["cs_extra"])
        host.asr["cs_extras_disk"] = True


def mysql_accounts(host: Host) -> dict[str, str]:
    """LAB bookkeeping: the CS's MySQL accounts (user -> password) that ``mysql.exe`` accepts."""
    return host.asr.setdefault("mysql", {}).setdefault("accounts", {})


def install_mysql(host: Host, home: str, passwords: tuple[str, str] | None) -> None:
    """MySQL 5.7 on the CS, as setup leaves it (SRC ucx_server_setup.iss, server/tm/etc/amethyst.conf, my.ini).

    The client at ``<basedir>\\bin\\mysql.exe``, its folder in the registry (``Location``), the accounts
    ``root`` and ``svsystems`` (the MySQL credentials file's MySQLRootPassword / MySQLUserPassword [8]), and the
    database keys of amethyst.conf [6.5]: DB_NAME, DB_HOST, DB_USER, DB_PASSWD, DB_ROOT_USER, DB_ROOT_PASSWD,
    MYSQL_PATH (no trailing backslash), MYSQL_DATA_PATH. An upgrade restores amethyst.conf from its backup in SRC;
    the lab re-adds the same keys after ``install_csps`` rewrote the file.
    """
    accounts = mysql_accounts(host)
    if passwords is not None:
        accounts[c.DB_ROOT_USER], accounts[c.DB_USER] = passwords
    accounts.setdefault(c.DB_ROOT_USER, c.LAB_DB_ROOT_PASSWORD)
    accounts.setdefault(c.DB_USER, c.LAB_DB_PASSWORD)
    host.mkdir(c.MYSQL_BASEDIR + "\\bin")
    host.write_file(c.MYSQL_EXE, "ASR-LAB-MYSQL-CLIENT\n")  # lab/asr/mysql.py answers it by its file name
    host.reg_set(c.REG_MYSQL, "Location", c.MYSQL_BASEDIR + "\\")
    host.reg_set(c.REG_MYSQL, "DataLocation", c.MYSQL_DATA_DIR + "\\")
    host.reg_set(c.REG_MYSQL, "Version", "5.7.20")
    keys = {
        "DB_NAME": c.DB_NAME,
        "DB_HOST": "localhost",
        "DB_USER": c.DB_USER,
        "DB_PASSWD": accounts[c.DB_USER],
        "DB_ROOT_USER": c.DB_ROOT_USER,
        "DB_ROOT_PASSWD": accounts[c.DB_ROOT_USER],
        "MYSQL_PATH": c.MYSQL_BASEDIR,
        "MYSQL_DATA_PATH": c.MYSQL_DATA_DIR,
    }
    path = join(home, "etc", "amethyst.conf")
    lines = [
        line
        for line in (host.read_text(path).splitlines() if host.is_file(path) else [])
        if line.split("=", 1)[0].strip().upper() not in keys  # SRC AddOrReplaceLine: one line per key
    ]
    lines += [f'{key} = "{value}"' for key, value in keys.items()]
    host.write_file(path, "".join(line + "\r\n" for line in lines))


def set_cs_passphrase(host: Host, passphrase: str) -> None:
    host.write_file(c.CS_PASSPHRASE_FILE, passphrase)  # [3.2]


def cs_passphrase(host: Host) -> str | None:
    if not host.is_file(c.CS_PASSPHRASE_FILE):
        return None
    return host.read_text(c.CS_PASSPHRASE_FILE).strip()
