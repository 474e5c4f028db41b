# asr.process_server script: setup_start v1
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Put the Unified Setup package in place and check it, extract it ([1.1] `/q /x:<folder>`), write the secret
# files setup reads (passphrase [1.3], proxy settings [8]) into a run folder only SYSTEM and Administrators can
# open, and start UnifiedSetup.exe DETACHED. It returns at once; setup_poll reads the result, setup_cleanup
# removes the files.
#
# The package: the controller transfers a package of its own with the connection's put_file straight into the
# host's temporary folder (SourcePath: put_file cannot create the per-package staging folder). This script moves
# it to PackagePath (its staging folder, one per SHA-256, so the packages of an N-4 upgrade's hops coexist) after
# checking its SHA-256 -- a package that arrived different is deleted, so a re-run transfers it again. A package
# already at PackagePath (staged by an earlier run, or installer_remote_path) is checked the same way but never
# deleted. A package whose file version is not ExpectedVersion (the version the task gave for it) is not run.
#
# Why Win32_Process.Create (through CIM) and not a scheduled task: the process is created by the WMI provider
# host, outside the WinRM shell's job object, so it survives the shell closing, a dropped connection and a
# WinRM restart; it runs under the caller's own identity (SYSTEM when the task uses become, as documented), so
# setup runs as exactly the account the operator chose and audits, and nothing (a task definition) is left to
# clean up. A small runner (a fixed text written below) waits for setup, deletes the secret files as soon as
# setup exits, and writes the exit code to status.json, so the result is never lost with the connection.
#
# One setup at a time: Unified Setup is single-instance [1.3] (a second one fails), and a second start would also
# delete the extracted files the running setup executes from. So before touching anything this script looks for
# a run of this collection still alive in the staging folder (a run folder with started.json, no status.json,
# and its runner process alive -- another play, or an earlier run whose controller was interrupted) and for
# setup's own mutex; when it finds one it changes nothing and returns `busy`, which the controller reports as a
# clear failure (wait, then run again). The check and the start happen under a host-wide mutex of this
# collection, so two plays starting at the same moment cannot both pass the check.
#
# User values arrive only as parameters (ARCHITECTURE.md decision 5); the passphrase and the proxy settings
# (which hold the proxy password) arrive as SecureStrings (win_powershell sensitive_parameters) and are only
# written to files inside the protected run folder (decision 6). The setup command line carries paths only.
# Windows PowerShell 5.1.
[CmdletBinding()]
param (
    [Parameter(Mandatory = $true)][string]$PackagePath,
    # Where put_file wrote the package; moved to PackagePath when it is there.
    [string]$SourcePath = '',
    [string]$ExpectedSha256 = '',
    # major.minor.build.revision the package's file version must have (empty: not checked).
    [string]$ExpectedVersion = '',
    [Parameter(Mandatory = $true)][string]$ExtractDir,
    [Parameter(Mandatory = $true)][string]$RunDir,
    # The arguments after UnifiedSetup.exe, quoted by the controller with the Windows (CommandLineToArgvW) rules.
    [Parameter(Mandatory = $true)][string]$SetupArguments,
    # Created when missing: [1.3] setup requires /InstallLocation to exist.
    [string]$InstallLocation = '',
    [string]$PassphraseFile = '',
    [System.Security.SecureString]$Passphrase,
    [string]$ProxySettingsFile = '',
    [System.Security.SecureString]$ProxySettings
)

$ErrorActionPreference = 'Stop'

$RunnerText = @'
# asr.process_server detached Unified Setup runner (started by setup_start v1)
param ([string]$RunDir)
$ErrorActionPreference = 'Stop'
$spec = Get-Content -LiteralPath (Join-Path -Path $RunDir -ChildPath 'spec.json') -Raw | ConvertFrom-Json
$status = [ordered]@{ state = 'exited'; rc = $null; error = $null; finished = $null }
try {
    # Not Start-Process -Wait: Windows PowerShell 5.1 then waits for every process setup starts (services, helpers
    # that outlive it). Setup itself is waited for; reading Handle at once keeps its exit code readable (.NET Framework).
    $setup = Start-Process -FilePath $spec.setup -ArgumentList $spec.arguments -WorkingDirectory $spec.working_directory `
        -RedirectStandardOutput $spec.stdout -RedirectStandardError $spec.stderr -NoNewWindow -PassThru
    $null = $setup.Handle
    $setup.WaitForExit()
    $status.rc = $setup.ExitCode
}
catch {
    $status.error = $_.Exception.Message
}
finally {
    foreach ($file in @($spec.secret_files)) {
        if ($file -and (Test-Path -LiteralPath $file)) {
            Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue
        }
    }
    $status.finished = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', [System.Globalization.CultureInfo]::InvariantCulture)
    $statusPath = Join-Path -Path $RunDir -ChildPath 'status.json'
    Set-Content -LiteralPath ($statusPath + '.tmp') -Value (ConvertTo-Json -InputObject $status -Compress) -Encoding UTF8
    Move-Item -LiteralPath ($statusPath + '.tmp') -Destination $statusPath -Force
}
'@

# asr.process_server include: file_facts

# asr.process_server include: protected_files

# asr.process_server include: run_state

# asr.process_server include: secure_text

function New-Folder {
    # A folder and its missing parents; nothing happens when it exists.
    param ([string]$Path)
    New-Item -Path $Path -ItemType Directory -Force | Out-Null
}

function New-ProtectedDirectory {
    # SYSTEM and BUILTIN\Administrators only, inheritance from the parent removed (decision 6).
    param ([string]$Path)
    New-Folder -Path $Path
    Set-Acl -LiteralPath $Path -AclObject (New-AdminOnlyAcl -Container)
}

function Write-SecretFile {
    # The plain text exists only in this call's memory and in the protected file.
    param ([string]$Path, [System.Security.SecureString]$Value)
    Set-FileText -Path $Path -Text (ConvertFrom-SecureText -Value $Value)
}

function Get-LiveRun {
    # A run of this collection still in progress under $StagingDir: its folder, runner process id and start time.
    param ([string]$StagingDir)
    if (-not $StagingDir -or -not (Test-Path -LiteralPath $StagingDir -PathType Container)) {
        return $null
    }
    foreach ($folder in @(Get-ChildItem -LiteralPath $StagingDir -Directory -Filter 'run-*' -ErrorAction SilentlyContinue)) {
        $startedPath = Join-Path -Path $folder.FullName -ChildPath 'started.json'
        $statusPath = Join-Path -Path $folder.FullName -ChildPath 'status.json'
        if (-not (Test-Path -LiteralPath $startedPath -PathType Leaf) -or (Test-Path -LiteralPath $statusPath -PathType Leaf)) {
            continue
        }
        $started = Get-Content -LiteralPath $startedPath -Raw | ConvertFrom-Json
        if (Test-RunnerAlive -Started $started) {
            return [ordered]@{ run_dir = $folder.FullName; pid = [int]$started.pid; started = $started.started; by = 'asr.process_server' }
        }
    }
    return $null
}

function New-NamedMutex {
    # Windows seam (the lab's shim and the Pester tests replace it): a named mutex of this host, not owned yet.
    param ([string]$Name)
    return New-Object -TypeName System.Threading.Mutex -ArgumentList @($false, $Name)
}

function Test-NamedMutex {
    # Windows seam (the lab's shim and the Pester tests replace it): whether a named mutex exists on this host.
    param ([string]$Name)
    $existing = $null
    if ([System.Threading.Mutex]::TryOpenExisting($Name, [ref]$existing)) {
        $existing.Dispose()
        return $true
    }
    return $false
}

function Test-SetupMutex {
    # [1.3] Unified Setup's single-instance mutex. Its namespace is not documented [UNCONFIRMED]: both are tried.
    foreach ($name in @('Global\Microsoft Azure Site Recovery Setup', 'Microsoft Azure Site Recovery Setup')) {
        if (Test-NamedMutex -Name $name) {
            return $true
        }
    }
    return $false
}

# ---- the package: into place, checksum, version, then [1.1] extraction ----------------------------------------
function Set-PackageInPlace {
    # The package at PackagePath, checked: its SHA-256, and its version's four fixed parts against ExpectedVersion.
    $sha256 = $null
    if ($SourcePath -and (Test-Path -LiteralPath $SourcePath -PathType Leaf)) {
        $sha256 = Get-FileSha256 -Path $SourcePath
        if ($ExpectedSha256 -and $sha256 -ne $ExpectedSha256.ToLowerInvariant()) {
            Remove-Item -LiteralPath $SourcePath -Force
            throw ("The transferred Unified Setup package $SourcePath has SHA-256 $sha256, expected $ExpectedSha256 " +
                '(transfer corrupted?); it was deleted and not run. Run the task again to transfer it again.')
        }
        New-Folder -Path (Split-Path -Path $PackagePath -Parent)
        if (Test-Path -LiteralPath $PackagePath -PathType Leaf) {
            Remove-Item -LiteralPath $PackagePath -Force
        }
        Move-Item -LiteralPath $SourcePath -Destination $PackagePath
    }
    if (-not (Test-Path -LiteralPath $PackagePath -PathType Leaf)) {
        throw "The Unified Setup package $PackagePath does not exist on the host."
    }
    if ($null -eq $sha256) {
        $sha256 = Get-FileSha256 -Path $PackagePath
    }
    if ($ExpectedSha256 -and $sha256 -ne $ExpectedSha256.ToLowerInvariant()) {
        throw "The Unified Setup package $PackagePath has SHA-256 $sha256, expected $ExpectedSha256; it was not run."
    }
    $info = Get-FileVersionInfo -Path $PackagePath
    $version = Get-FileFixedVersion -Info $info
    # The fixed version parts (what the controller reads from the file too), missing parts of ExpectedVersion 0; a
    # package without a version resource is not refused.
    if ($ExpectedVersion -and $version -and -not (Test-SameVersion -Left $version -Right $ExpectedVersion)) {
        throw ("The Unified Setup package $PackagePath is version $version, not $ExpectedVersion as the task says; it " +
            'was not run. Correct the version given for it (installer_version, installers[].version) or the file.')
    }
    return [ordered]@{ sha256 = $sha256; file_version = $version; product_version = $info.ProductVersion }
}

function Expand-Package {
    # [1.1] <package> /q /x:<folder>; the folder then holds UnifiedSetup.exe.
    if (Test-Path -LiteralPath $ExtractDir) {
        Remove-Item -LiteralPath $ExtractDir -Recurse -Force
    }
    New-Folder -Path $ExtractDir
    $extract = Start-Process -FilePath $PackagePath -ArgumentList @('/q', "/x:$ExtractDir") -NoNewWindow -PassThru -Wait
    if ($extract.ExitCode -ne 0) {
        throw "Extracting $PackagePath into $ExtractDir failed with exit code $($extract.ExitCode)."
    }
    $setupExe = Join-Path -Path $ExtractDir -ChildPath 'UnifiedSetup.exe'
    if (-not (Test-Path -LiteralPath $setupExe -PathType Leaf)) {
        throw "$PackagePath extracted no UnifiedSetup.exe into $ExtractDir."
    }
    return $setupExe
}

# ---- the run folder, the secret files and the detached start ------------------------------------------------
function New-RunFolder {
    # The protected run folder, the secret files in it, spec.json for the runner; the secret files' paths.
    param ([string]$SetupExe)
    if (Test-Path -LiteralPath $RunDir) {
        Remove-Item -LiteralPath $RunDir -Recurse -Force
    }
    New-ProtectedDirectory -Path $RunDir
    $secretFiles = [System.Collections.Generic.List[string]]@()
    if ($PassphraseFile) {
        Write-SecretFile -Path $PassphraseFile -Value $Passphrase
        $secretFiles.Add($PassphraseFile)
    }
    if ($ProxySettingsFile) {
        Write-SecretFile -Path $ProxySettingsFile -Value $ProxySettings
        $secretFiles.Add($ProxySettingsFile)
    }
    if ($InstallLocation -and -not (Test-Path -LiteralPath $InstallLocation -PathType Container)) {
        New-Folder -Path $InstallLocation
    }
    $spec = [ordered]@{
        setup = $SetupExe
        arguments = $SetupArguments
        working_directory = $ExtractDir
        stdout = Join-Path -Path $RunDir -ChildPath 'stdout.txt'
        stderr = Join-Path -Path $RunDir -ChildPath 'stderr.txt'
        secret_files = $secretFiles.ToArray()
    }
    Set-Content -LiteralPath (Join-Path -Path $RunDir -ChildPath 'spec.json') -Value (ConvertTo-Json -InputObject $spec -Compress) -Encoding UTF8
    return , $secretFiles.ToArray()
}

function Get-RunnerCommandLine {
    # powershell.exe with the runner as -EncodedCommand (UTF-16LE, base64): a command, not a script file, so no
    # execution policy applies to it (an AllSigned group policy overrides -ExecutionPolicy Bypass for -File).
    $command = "& {`n$RunnerText`n} -RunDir '$($RunDir.Replace("'", "''"))'"
    $encoded = [System.Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($command))
    $powershell = Join-Path -Path $env:SystemRoot -ChildPath 'System32\WindowsPowerShell\v1.0\powershell.exe'
    return '"{0}" -NoProfile -NonInteractive -EncodedCommand {1}' -f $powershell, $encoded
}

function Get-CreateFailureText {
    # Win32_Process.Create's return values (its documentation), with what usually causes them here.
    param ([int]$ReturnValue)
    switch ($ReturnValue) {
        2 {
            return ('access denied: the account may not start processes through WMI, or a Microsoft Defender attack surface ' +
                'reduction rule (Block process creations originating from PSExec and WMI commands) or an application control policy refuses it')
        }
        3 { return 'insufficient privilege: connect as a local administrator, or use become' }
        8 { return 'unknown failure' }
        9 { return 'path not found: Windows PowerShell (powershell.exe) is not where Windows keeps it' }
        21 { return 'invalid parameter' }
        default { return 'see the Win32_Process.Create documentation' }
    }
}

function Start-Runner {
    # Start the runner detached (see the header for why Win32_Process.Create); its process id and start time.
    $created = Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{
        CommandLine = Get-RunnerCommandLine
        CurrentDirectory = $ExtractDir
    }
    if ($created.ReturnValue -ne 0) {
        throw ("Win32_Process.Create could not start the setup runner: return value $($created.ReturnValue), " +
            (Get-CreateFailureText -ReturnValue $created.ReturnValue) + '. Nothing was installed.')
    }
    $process = Get-Process -Id ([int]$created.ProcessId) -ErrorAction SilentlyContinue
    return [ordered]@{
        pid = [int]$created.ProcessId
        started = ConvertTo-IsoUtc -Value (Get-Date)
        # what tells this runner from a later process that got its id (Test-RunnerAlive)
        process_started = if ($null -ne $process -and $null -ne $process.StartTime) { ConvertTo-IsoUtc -Value $process.StartTime -Milliseconds } else { $null }
    }
}

function Start-SetupRun {
    $package = Set-PackageInPlace
    $setupExe = Expand-Package
    $secretFiles = New-RunFolder -SetupExe $setupExe
    try {
        $record = Start-Runner
    }
    catch {
        foreach ($file in $secretFiles) {
            Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue
        }
        throw
    }
    Set-Content -LiteralPath (Join-Path -Path $RunDir -ChildPath 'started.json') -Value (ConvertTo-Json -InputObject $record -Compress) -Encoding UTF8
    $Ansible.Changed = $true
    $Ansible.Result = ConvertTo-Json -Compress -InputObject ([ordered]@{
            run_dir = $RunDir
            pid = $record.pid
            started = $record.started
            setup = $setupExe
            setup_version = Get-FileFixedVersion -Info (Get-FileVersionInfo -Path $setupExe)
            secret_files = $secretFiles
            package = [ordered]@{
                path = $PackagePath
                exists = $true
                size_bytes = [int64](Get-Item -LiteralPath $PackagePath).Length
                file_version = $package.file_version
                product_version = $package.product_version
                sha256 = $package.sha256
            }
        })
}


# ---- one setup at a time (see the header) -----------------------------------------------------------------
$startLock = New-NamedMutex -Name 'Global\asr.process_server.setup_start'
try {
    if (-not $startLock.WaitOne([TimeSpan]::FromSeconds(120))) {
        throw 'Another asr.process_server task has been starting Unified Setup on this host for 2 minutes; run the task again.'
    }
}
catch [System.Threading.AbandonedMutexException] {
    # the previous holder's process ended without releasing it: this process owns it now
    Write-Verbose -Message 'setup_start: took over an abandoned start lock'
}
# From here on this call owns the start lock, and releases it however it ends (a long-lived host process, the psrp
# connection, would otherwise keep it, and every later start would wait 2 minutes and fail).
try {
    $busy = Get-LiveRun -StagingDir (Split-Path -Path $RunDir -Parent)
    if ($null -eq $busy -and (Test-SetupMutex)) {
        $busy = [ordered]@{ run_dir = $null; pid = $null; started = $null; by = 'mutex Microsoft Azure Site Recovery Setup' }
    }
    if ($null -ne $busy) {
        $Ansible.Changed = $false
        $Ansible.Result = ConvertTo-Json -Compress -InputObject ([ordered]@{ busy = $busy })
        return
    }
    Start-SetupRun
}
finally {
    $startLock.ReleaseMutex()
    $startLock.Dispose()
}
