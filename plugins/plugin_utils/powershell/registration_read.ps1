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
# The lab runs this text under pwsh (lab/scripts.py).
[CmdletBinding(SupportsShouldProcess)]
param (
    [string]$DatabaseUser = '',
    [System.Security.SecureString]$DatabasePassword
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

# asr.process_server include: native_command

# asr.process_server include: shared_text

$Query = ('SELECT id AS hostid, name, ipaddress, ostype AS operatingsystem, ' +
    'FROM_UNIXTIME(lasthostupdatetime) AS heartbeat, processserverenabled, lasthostupdatetimeps AS ps_heartbeat, ' +
    'UNIX_TIMESTAMP() - lasthostupdatetime AS heartbeat_age_s, ' +
    'UNIX_TIMESTAMP() - UNIX_TIMESTAMP(lasthostupdatetimeps) AS ps_heartbeat_age_s ' +
    "FROM hosts WHERE name != 'InMageProfiler'")
$Statements = "SET SESSION TRANSACTION READ ONLY; START TRANSACTION READ ONLY; $Query; COMMIT"

function Read-AmethystValue {
    # KEY = "value" lines [6.5]; the last occurrence of a key wins; $null when absent or empty.
    param ([string[]]$Lines, [string]$Key)
    $value = $null
    foreach ($line in $Lines) {
        $m = [regex]::Match($line, '^\s*([A-Za-z0-9_]+)\s*=\s*"?(.*?)"?\s*$')
        if ($m.Success -and $m.Groups[1].Value -ieq $Key) {
            $value = $m.Groups[2].Value
        }
    }
    if ($value) {
        return $value
    }
    return $null
}

function ConvertFrom-SecurePassword {
    # The plain text of a SecureString, for the child's environment only.
    param ([System.Security.SecureString]$Value)
    $bstr = [System.Runtime.InteropServices.Marshal]::SecureStringToBSTR($Value)
    try {
        return [System.Runtime.InteropServices.Marshal]::PtrToStringBSTR($bstr)
    }
    finally {
        [System.Runtime.InteropServices.Marshal]::ZeroFreeBSTR($bstr)
    }
}

$cxType = $null
$key = Get-Item -LiteralPath 'HKLM:\SOFTWARE\Wow6432Node\InMage Systems\Installed Products\9' -ErrorAction SilentlyContinue
if ($null -ne $key) {
    $cxType = $key.GetValue('CX_TYPE', $null)
}
$amethystPath = Join-Path -Path $env:ProgramData -ChildPath 'ASR\home\svsystems\etc\amethyst.conf'
$result = [ordered]@{
    is_configuration_server = ($null -ne $cxType -and @(1, 3) -contains [int]$cxType)
    amethyst_conf = $amethystPath
    amethyst_present = (Test-Path -LiteralPath $amethystPath -PathType Leaf)
    mysql_client = $null
    mysql_client_source = $null
    database = 'svsdb1'
    credentials = $null
    credentials_missing = @()
    statements = $Statements
    rc = $null
    stdout = $null
    stderr = $null
}
if (-not $result.is_configuration_server) {
    $Ansible.Result = ConvertTo-Json -InputObject $result -Compress
    return
}

$amethyst = @()
if ($result.amethyst_present) {
    $amethyst = @((Read-SharedText -Path $amethystPath) -split "\r\n|\n|\r")
}
$mysqlPath = Read-AmethystValue -Lines $amethyst -Key 'MYSQL_PATH'
if ($mysqlPath -and (Test-Path -LiteralPath (Join-Path -Path $mysqlPath -ChildPath 'bin\mysql.exe') -PathType Leaf)) {
    $result.mysql_client = Join-Path -Path $mysqlPath -ChildPath 'bin\mysql.exe'
    $result.mysql_client_source = 'amethyst.conf MYSQL_PATH'
}
else {
    $mysqlKey = Get-Item -LiteralPath 'HKLM:\SOFTWARE\Wow6432Node\MySQL AB\MySQL Server 5.7' -ErrorAction SilentlyContinue
    $location = $null
    if ($null -ne $mysqlKey) {
        $location = $mysqlKey.GetValue('Location', $null)
    }
    if ($location -and (Test-Path -LiteralPath (Join-Path -Path $location -ChildPath 'bin\mysql.exe') -PathType Leaf)) {
        $result.mysql_client = Join-Path -Path $location -ChildPath 'bin\mysql.exe'
        $result.mysql_client_source = 'registry MySQL AB\MySQL Server 5.7 Location'
    }
}

$user = $DatabaseUser
$plainPassword = $null
if ($user) {
    $result.credentials = 'task'
}
else {
    $user = Read-AmethystValue -Lines $amethyst -Key 'DB_USER'
    $plainPassword = Read-AmethystValue -Lines $amethyst -Key 'DB_PASSWD'
    $result.credentials = 'amethyst.conf'
    $missing = @()
    if (-not $user) {
        $missing += 'DB_USER'
    }
    if (-not $plainPassword) {
        $missing += 'DB_PASSWD'
    }
    $result.credentials_missing = $missing
}
if (-not $result.mysql_client -or $result.credentials_missing.Count -gt 0) {
    $Ansible.Result = ConvertTo-Json -InputObject $result -Compress
    return
}

if ($null -ne $DatabasePassword) {
    $plainPassword = ConvertFrom-SecurePassword -Value $DatabasePassword
}
$arguments = @('--batch', "--user=$user", '--database=svsdb1', "--execute=$Statements")
try {
    # read-only: one SELECT in a READ ONLY transaction; mysql.exe is started for nothing else.
    $read = Invoke-NativeCommand -FilePath $result.mysql_client -ArgumentList $arguments -Environment @{ MYSQL_PWD = $plainPassword }
    $result.rc = $read.rc
    $result.stdout = $read.stdout
    $result.stderr = $read.stderr
}
finally {
    $plainPassword = $null
}
$Ansible.Result = ConvertTo-Json -InputObject $result -Compress
