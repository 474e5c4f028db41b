"""Names, paths, registry keys and services of the ASR classic stack, each with its reference section."""

from __future__ import annotations

# [6.1] SRC Constants.cs: exact Add/Remove-Programs display names.
DN_CSPS = "Microsoft Azure Site Recovery Configuration/Process Server"
DN_DEPENDENCIES = "Microsoft Azure Site Recovery Configuration/Process Server Dependencies"
DN_MT = "Microsoft Azure Site Recovery Mobility Service/Master Target Server"
DN_MARS = "Microsoft Azure Recovery Services Agent"
DN_PROVIDER = "Microsoft Azure Site Recovery Provider"  # CS only
DN_MYSQL = "MySQL Server 5.7"  # [6.1] DOC physical CS uninstall list, step 6

# [6.1] SRC Constants.cs MS_MTProductGUID; DOC vmware-physical-manage-mobility-service.md
MT_PRODUCT_CODE = "{275197FC-14FD-4560-A5EB-38217F80CBD1}"
# [UNCONFIRMED] the reference has no MARS product code; [1.5] shows MARS is an MSI (log C:\Windows\Temp\OBMsi.log).
# LAB-ONLY code (its digits spell "LAB MARS") so the uninstaller can be modelled; a real host has another.
MARS_PRODUCT_CODE_LAB = "{0000004C-4142-4D41-5253-000000000001}"

UNINSTALL_ROOT = (
    r"HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Uninstall"  # [6.1] SRC ValidationHelper.cs
)
# [6.1] the Inno uninstall key names of CS/PS and Dependencies are [UNCONFIRMED] (no AppId in the .iss): these are
# LAB-CHOSEN names; setup and the collection must find the products by DisplayName, as SRC setup does.
KEY_CSPS = "ASR Configuration-Process Server_is1"
KEY_DEPENDENCIES = "ASR Configuration-Process Server Dependencies_is1"
KEY_MT = MT_PRODUCT_CODE  # MSI products are keyed by their product code
KEY_MARS = MARS_PRODUCT_CODE_LAB
KEY_PROVIDER = "ASR Provider (lab)"
KEY_MYSQL = "MySQL Server 5.7 (lab)"

# [6.4] SRC ucx_server_setup.iss, Constants.cs, AmethystConfig.cs (32-bit installers => Wow6432Node)
REG_INSTALLED_PRODUCTS = r"HKLM\SOFTWARE\Wow6432Node\InMage Systems\Installed Products"
REG_INSTALLED_CSPS = REG_INSTALLED_PRODUCTS + r"\9"
REG_INSTALLED_DEPENDENCIES = REG_INSTALLED_PRODUCTS + r"\10"
REG_PS_MODE = r"HKLM\SOFTWARE\Microsoft\Azure Site Recovery Process Server"  # value "CS Mode" = "LegacyCS"
REG_PROXY_SETTINGS = r"HKLM\SOFTWARE\Microsoft\Azure Site Recovery\ProxySettings"  # [6.4] value names unknown
REG_REGISTRATION = r"HKLM\SOFTWARE\Microsoft\Azure Site Recovery\Registration"  # [6.4] CS vault registration
REG_MARS_SETUP = r"HKLM\SOFTWARE\Microsoft\Windows Azure Backup\Setup"  # [6.6] SRC SetMarsProxy: InstallPath
CX_TYPE = {"CS": 3, "PS": 2}  # [6.4] 1 CSOnly, 2 PSOnly, 3 CSAndPS (a CS installed by Unified Setup has its PS)

# [1.5] SRC Constants.cs log files
SETUP_LOG_DIR = r"C:\ProgramData\ASRSetupLogs"
LOG_UNIFIED = SETUP_LOG_DIR + r"\ASRUnifiedSetup.log"
LOG_DEPENDENCIES = SETUP_LOG_DIR + r"\CX_TP_InstallLogFile.log"
LOG_CSPS = SETUP_LOG_DIR + r"\CX_InstallLogFile.log"
LOG_AGENT_INSTALLER = SETUP_LOG_DIR + r"\ASRUnifiedAgentInstaller.log"
LOG_AGENT_CONFIGURATOR = SETUP_LOG_DIR + r"\ASRUnifiedAgentConfigurator.log"
LOG_MT_MSI = SETUP_LOG_DIR + r"\UnifiedAgentMSIInstall.log"
LOG_MARS_STATUS = SETUP_LOG_DIR + r"\MARSStatus.log"
LOG_MARS_MSI = r"C:\Windows\Temp\OBMsi.log"
LOG_DRA = r"C:\ProgramData\ASRLogs\DRASetupWizard.log"

ASR_JUNCTION = r"C:\ProgramData\ASR"  # [3.3] SRC ucx_server_setup.iss: junction -> <InstallLocation>
APP_CONF = r"C:\ProgramData\Microsoft Azure Site Recovery\Config\App.conf"  # [6.5] INSTALLATION_PATH
CS_PASSPHRASE_FILE = r"C:\ProgramData\Microsoft Azure Site Recovery\private\connection.passphrase"  # [3.2]
THIRDPARTY_DIR = r"C:\thirdparty"  # [6.2] SRC cx_thirdparty_setup.iss default
PERL_EXE = THIRDPARTY_DIR + r"\perl\bin\perl.exe"  # LAB-CHOSEN location inside the Dependencies folder
MARS_DIR = r"C:\Program Files\Microsoft Azure Recovery Services Agent"  # [6.5] AV exclusion list

# The configuration server's MySQL ([2.1] MySQL Server 5.7 on the CS; [5] its database svsdb1). SRC
# (AzMigrate-Hydration 572a86a96d) server/windows/my.ini basedir/datadir, ucx_server_setup.iss (reads
# HKLM\SOFTWARE\Wow6432Node\MySQL AB\MySQL Server 5.7 "Location" and runs Location + 'bin\mysql.exe'; writes
# MYSQL_PATH = "<Location without the trailing backslash>" into amethyst.conf), server/tm/etc/amethyst.conf (the DB
# keys and their defaults).
MYSQL_BASEDIR = r"C:\Program Files (x86)\MySQL\MySQL Server 5.7"
MYSQL_EXE = MYSQL_BASEDIR + r"\bin\mysql.exe"
MYSQL_DATA_DIR = r"C:\ProgramData\MySQL\MySQL Server 5.7"
REG_MYSQL = r"HKLM\SOFTWARE\Wow6432Node\MySQL AB\MySQL Server 5.7"
DB_NAME = "svsdb1"
DB_USER = "svsystems"
DB_ROOT_USER = "root"
# LAB defaults when a seed builds a CS without Unified Setup (a real CS has the passwords of its MySQL credentials
# file [8]); they follow the [8] SRC password rule and hold a '#', which an option file reads as a comment unless
# the value is quoted.
LAB_DB_PASSWORD = "LabDbUser#4711"
LAB_DB_ROOT_PASSWORD = "LabDbRoot#4711"

CS_PORT = 443  # [1.3] SRC: CS port fixed at 443 for the passphrase check; [3.3] DOC cspsconfigtool CS port 443
DEFAULT_DATA_PORT = 9443  # [1.3] SRC SetupParameters.cs (the doc's 9433 is a typo)

# [6.3] services per component: (name, display name, start mode). DOC: StartType Automatic / Automatic (Delayed
# Start) for all except obengine. lab decision: the reference is silent on obengine's start type; the lab uses
# "manual". Display names the reference leaves blank are the service names.
SERVICES_CSPS = [
    ("ProcessServer", "Process Server", "auto"),
    ("ProcessServerMonitor", "Process Server Monitor", "auto"),
    ("cxprocessserver", "cxprocessserver", "auto"),
    ("InMage PushInstall", "InMage PushInstall", "auto"),
    ("LogUpload", "Log Upload Service", "auto"),
    ("tmansvc", "tmansvc", "auto"),
]
SERVICES_MT = [
    ("svagents", "InMage Scout VX Agent - Sentinel/Outpost", "auto"),
    ("InMage Scout Application Service", "InMage Scout Application Service", "auto"),
]
SERVICES_MARS = [("obengine", "Microsoft Azure Recovery Services Agent", "manual")]
SERVICES_CS_ONLY = [
    ("W3SVC", "World Wide Web Publishing Service", "auto"),
    ("MySQL", "MySQL", "auto"),
    ("dra", "Microsoft Azure Site Recovery Service", "auto"),
]
# [6.3] SRC EvaluateOperations.cs: setup's post-install check in PS mode (failure => exit 102)
POST_INSTALL_CHECK_PS = [
    "tmansvc",
    "InMage PushInstall",
    "cxprocessserver",
    "ProcessServer",
    "ProcessServerMonitor",
    "obengine",
    "svagents",
    "InMage Scout Application Service",
]

# [1.4] SRC SetupHelper.cs SetupReturnValues
EXIT = {
    "Successful": 0,
    "Failed": 1,
    "InvalidCommandLine": 2,
    "PrerequisiteChecksFailed": 4,
    "DRAInstallationFailed": 101,
    "ServicesAreNotRunning": 102,
    "VaultRegistrationFailed": 103,
    "MARSAgentInstallationFailed": 111,
    "ContainerRegistrationFailed": 112,
    "MTContainerRegistrationFailed": 113,
    "MARSAgentProxyIsNotSet": 115,
    "ConfigManagerInstallationFailed": 116,
    "ProductIsAlreadyInstalled": 201,
    "UpgradeNotSupported": 203,
    "SuccessfulNeedReboot": 3010,
}
EXIT_NAMES = {v: k for k, v in EXIT.items()}

# [1.4] SRC Program.cs, Resources.en.resx
MSG_SUCCEEDED = "Installation of Azure Site Recovery Unified Setup has succeeded."
MSG_FAILED = "Installation of Azure Site Recovery Unified Setup has failed."
MUTEX_NAME = "Microsoft Azure Site Recovery Setup"  # [1.3] single instance
USAGE = (  # [1.3] SRC Resources.en.resx CommandlineUsage
    "UnifiedSetup.exe [/ShowThirdpartyEULA] [/AcceptThirdpartyEULA] [/ServerMode <CS/PS>] "
    "[/InstallLocation <Installation Directory>] [/MySQLCredsFilePath <MySQL credentials file path>] "
    "[/VaultCredsFilePath <Vault credentials file path>] [/EnvType <VMWare/NonVMWare>] [/PSIP <IP address>] "
    "[/CSIP <IP address>] [/PassphraseFilePath <Passphrase file path>] [/ProxySettingsFilePath <Proxy file path>] "
    "[/DataTransferSecurePort <Port number>] [/SkipSpaceCheck] [/Upgrade]"
)
