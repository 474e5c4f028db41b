# asr.process_server fragment: svsdb_read
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Spliced by load_script into registration_read and diagnose (each also includes native_command, shared_text and
# secure_text): the ONE read of a configuration server's registrations the collection makes -- the documented svsdb1
# query [5] in a READ ONLY transaction, with the client and the account the configuration server itself uses
# (amethyst.conf [6.5]) or the task's. Why each choice: the header of registration_read.ps1. Read-RegistrationTable
# reports what is missing (no client, no credentials) instead of throwing, returns mysql.exe's rc/stdout/stderr, and
# never returns the password.
function Get-RegistrationStatement {
    # The documented query [5] plus the process-server columns, inside a READ ONLY transaction (registration_read.ps1).
    $query = ('SELECT id AS hostid, name, ipaddress, ostype AS operatingsystem, ' +
        'FROM_UNIXTIME(lasthostupdatetime) AS heartbeat, processserverenabled, lasthostupdatetimeps AS ps_heartbeat, ' +
        'UNIX_TIMESTAMP() - lasthostupdatetime AS heartbeat_age_s, ' +
        'UNIX_TIMESTAMP() - UNIX_TIMESTAMP(lasthostupdatetimeps) AS ps_heartbeat_age_s ' +
        "FROM hosts WHERE name != 'InMageProfiler'")
    return "SET SESSION TRANSACTION READ ONLY; START TRANSACTION READ ONLY; $query; COMMIT"
}

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

function Find-MySqlClient {
    # <MYSQL_PATH>\bin\mysql.exe, else bin\mysql.exe under the folder MySQL's installer registered (SRC
    # ucx_server_setup.iss); the client and where it was found, or $null.
    param ([string[]]$Amethyst)
    $mysqlPath = Read-AmethystValue -Lines $Amethyst -Key 'MYSQL_PATH'
    if ($mysqlPath -and (Test-Path -LiteralPath (Join-Path -Path $mysqlPath -ChildPath 'bin\mysql.exe') -PathType Leaf)) {
        return [ordered]@{ path = Join-Path -Path $mysqlPath -ChildPath 'bin\mysql.exe'; source = 'amethyst.conf MYSQL_PATH' }
    }
    $mysqlKey = Get-Item -LiteralPath 'HKLM:\SOFTWARE\Wow6432Node\MySQL AB\MySQL Server 5.7' -ErrorAction SilentlyContinue
    $location = $null
    if ($null -ne $mysqlKey) {
        $location = $mysqlKey.GetValue('Location', $null)
    }
    if ($location -and (Test-Path -LiteralPath (Join-Path -Path $location -ChildPath 'bin\mysql.exe') -PathType Leaf)) {
        return [ordered]@{ path = Join-Path -Path $location -ChildPath 'bin\mysql.exe'; source = 'registry MySQL AB\MySQL Server 5.7 Location' }
    }
    return $null
}

function Read-RegistrationTable {
    # The read on this host: is_configuration_server, the client, the account's source (never its password), what is
    # missing, and mysql.exe's rc/stdout/stderr when it ran. Nothing is created on the host.
    param ([string]$DatabaseUser = '', [System.Security.SecureString]$DatabasePassword)
    $statements = Get-RegistrationStatement
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
        statements = $statements
        rc = $null
        stdout = $null
        stderr = $null
    }
    if (-not $result.is_configuration_server) {
        return $result
    }

    $amethyst = @()
    if ($result.amethyst_present) {
        $amethyst = @((Read-SharedText -Path $amethystPath) -split "\r\n|\n|\r")
    }
    $client = Find-MySqlClient -Amethyst $amethyst
    if ($null -ne $client) {
        $result.mysql_client = $client.path
        $result.mysql_client_source = $client.source
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
        return $result
    }

    if ($null -ne $DatabasePassword) {
        $plainPassword = ConvertFrom-SecureText -Value $DatabasePassword
    }
    $arguments = @('--batch', "--user=$user", '--database=svsdb1', "--execute=$statements")
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
    return $result
}
