# asr.process_server script: package_stage v1
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Put the Unified Setup package at its staging path (PackagePath, one folder per SHA-256) and say where it stands:
# `staged` (there, its SHA-256 checked), `running` (a transfer is under way), `missing` or `failed`. Nothing of the
# product changes, so a fleet rollout runs it on every host before the canary (docs/runbooks/package-distribution.md).
#
# Sources (SourceKind):
# * `url`: the host downloads the package over HTTP or HTTPS itself. The URL arrives as a SecureString (a storage
#   URL's query is a token: decision 6); it is written only to a file in the protected transfer folder, for the
#   runner, and removed when the transfer ends. Everything this script and the runner report names the source as
#   SourceShown (scheme://host/path). .NET's HttpWebRequest, not BITS: a BITS job needs the user logged on, which a
#   WinRM network logon is not, and .NET goes through the account's proxy settings (WebRequest.DefaultWebProxy) with
#   its own credentials for an authenticating proxy.
# * `share`: the host copies the package from a UNC path (SourcePath), as the account the task runs as (with become:
#   SYSTEM, the computer account).
# * `upload`: the controller transferred the package with put_file into $env:SystemRoot\Temp\<SourcePath>; it is
#   checked and moved to PackagePath. A copy that arrived different is deleted.
# * empty: only report.
#
# A transfer runs DETACHED (Win32_Process.Create, as setup_start starts setup: it survives the call, a dropped
# connection and a WinRM restart) in a small runner written below, into <staging folder>\transfer: it appends to
# package.partial and resumes from its length after a dropped connection (an HTTP Range request; a Seek on the
# share), retrying MaxAttempts times; then checks the SHA-256 -- a package that is not ExpectedSha256 is deleted,
# never staged -- and moves it to PackagePath. Its progress is transfer\status.json, which this script reads.
# A transfer that failed is reported once as `failed` and its status set aside, so the next call starts again
# (from what package.partial holds). WaitSeconds: how long this call waits for the runner to end before it returns.
#
# User values arrive only as parameters (decision 5). Windows PowerShell 5.1, .NET Framework 4.5.
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory = $true)][string]$PackagePath,
    [Parameter(Mandatory = $true)][string]$ExpectedSha256,
    [ValidateSet('', 'url', 'share', 'upload')][string]$SourceKind = '',
    [string]$SourcePath = '',
    [System.Security.SecureString]$Url,
    [string]$SourceShown = '',
    [int]$WaitSeconds = 0,
    [int]$MaxAttempts = 5
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

$RunnerText = @'
# asr.process_server package transfer runner (written by package_stage v1)
param ([string]$TransferDir)
$ErrorActionPreference = 'Stop'

# asr.process_server include: file_facts

function Get-UtcStamp {
    # Now in UTC, ISO 8601, the same on every host culture.
    return (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', [System.Globalization.CultureInfo]::InvariantCulture)
}

function Open-PartialFile {
    # Windows seam (the lab's shim and the Pester tests replace it): the partial package, opened for writing at its
    # end; nobody else may write it while this runner holds it (a second runner stops here).
    param ([string]$Path)
    $stream = [System.IO.File]::Open($Path, [System.IO.FileMode]::OpenOrCreate, [System.IO.FileAccess]::Write, [System.IO.FileShare]::Read)
    [void]$stream.Seek(0, [System.IO.SeekOrigin]::End)
    return $stream
}

function Close-PartialFile {
    # Windows seam (the lab's shim replaces it): what was written is on disk; the file is free again.
    param ([System.IO.Stream]$Stream, [string]$Path)
    $Stream.Dispose()
}

function Get-SourceLength {
    # Windows seam (the lab's shim replaces it): the size of the file to copy (on a share: as this account reaches it).
    param ([string]$Path)
    return [int64](New-Object -TypeName System.IO.FileInfo -ArgumentList $Path).Length
}

function Open-SourceFile {
    # Windows seam (the lab's shim replaces it): the file to copy, for reading from Offset on.
    param ([string]$Path, [int64]$Offset)
    $stream = [System.IO.File]::OpenRead($Path)
    [void]$stream.Seek($Offset, [System.IO.SeekOrigin]::Begin)
    return $stream
}

function Get-HttpResponse {
    # The host's own download: HttpWebRequest through the account's proxy settings, with the account's credentials for
    # an authenticating proxy; from Offset on with a Range request. TLS 1.2 added: .NET 4.5 offers only SSL 3/TLS 1.0
    # by default.
    param ([string]$Address, [int64]$Offset, [int]$TimeoutMs)
    [System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor [System.Net.SecurityProtocolType]::Tls12
    $request = [System.Net.HttpWebRequest][System.Net.WebRequest]::Create($Address)
    $request.Proxy = [System.Net.WebRequest]::DefaultWebProxy
    if ($null -ne $request.Proxy) {
        $request.Proxy.Credentials = [System.Net.CredentialCache]::DefaultCredentials
    }
    $request.Timeout = $TimeoutMs
    $request.ReadWriteTimeout = $TimeoutMs
    if ($Offset -gt 0) {
        $request.AddRange($Offset)
    }
    return $request.GetResponse()
}

function Write-TransferStatus {
    param ([System.Collections.IDictionary]$Status)
    $path = Join-Path -Path $TransferDir -ChildPath 'status.json'
    $Status.updated = (Get-UtcStamp)
    Set-Content -LiteralPath ($path + '.tmp') -Value (ConvertTo-Json -InputObject $Status -Compress) -Encoding UTF8
    Move-Item -LiteralPath ($path + '.tmp') -Destination $path -Force
}

function Copy-StreamTo {
    # Copy $From to $To; the status every 64 MB.
    param ([System.IO.Stream]$From, [System.IO.Stream]$To, [System.Collections.IDictionary]$Status)
    $buffer = [System.Array]::CreateInstance([System.Byte], 1048576)
    $sinceReport = 0
    while (($read = $From.Read($buffer, 0, $buffer.Length)) -gt 0) {
        $To.Write($buffer, 0, $read)
        $Status.bytes_done = [int64]$Status.bytes_done + $read
        $sinceReport += $read
        if ($sinceReport -ge 67108864) {
            $To.Flush()
            Write-TransferStatus -Status $Status
            $sinceReport = 0
        }
    }
}

function Get-FailureText {
    # The error without the URL: a query may hold a token.
    param ([System.Exception]$Exception, [string]$Scrub, [string]$Shown)
    if ($Exception -is [System.Management.Automation.MethodInvocationException] -and $Exception.InnerException) {
        $Exception = $Exception.InnerException  # 'Exception calling "GetResponse" ...' wraps what Windows said
    }
    $text = $Exception.Message
    if ($Scrub) {
        $text = $text.Replace($Scrub, $Shown)
    }
    return $text
}

function Test-PermanentFailure {
    # An HTTP answer that a retry does not change (not found, forbidden, unauthorized): stop at once.
    param ([System.Exception]$Exception)
    $web = $Exception -as [System.Net.WebException]
    if ($null -eq $web -and $Exception.InnerException) {
        $web = $Exception.InnerException -as [System.Net.WebException]
    }
    $answer = $null
    if ($null -ne $web) {
        $answer = $web.Response -as [System.Net.HttpWebResponse]
    }
    if ($null -ne $answer) {
        $code = [int]$answer.StatusCode
        return ($code -ge 400 -and $code -lt 500 -and $code -ne 408 -and $code -ne 416 -and $code -ne 429)
    }
    return ($Exception -is [System.UnauthorizedAccessException])
}

function Receive-FromUrl {
    # One attempt: from the partial file's length on; a server that ignores Range sends it all, and it starts over.
    param ([string]$Address, [System.IO.Stream]$Out, [System.Collections.IDictionary]$Status)
    $offset = $Out.Length
    $response = $null
    try {
        try {
            $response = Get-HttpResponse -Address $Address -Offset $offset -TimeoutMs 120000
        }
        catch [System.Net.WebException] {
            $answer = ([System.Net.WebException]$_.Exception).Response -as [System.Net.HttpWebResponse]
            if ($offset -gt 0 -and $null -ne $answer -and [int]$answer.StatusCode -eq 416) {
                return  # nothing left to fetch: the partial file is complete (its SHA-256 decides)
            }
            throw
        }
        if ($offset -gt 0 -and [int]$response.StatusCode -ne 206) {
            $Out.SetLength(0)
            $offset = 0
        }
        $Status.resumed_from = $offset
        $Status.bytes_done = $offset
        if ($response.ContentLength -ge 0) {
            $Status.bytes_total = $offset + $response.ContentLength
        }
        $body = $response.GetResponseStream()
        try {
            Copy-StreamTo -From $body -To $Out -Status $Status
        }
        finally {
            $body.Dispose()
        }
        $Out.Flush()
        if ($null -ne $Status.bytes_total -and $Out.Length -lt [int64]$Status.bytes_total) {
            throw (New-Object -TypeName System.IO.IOException -ArgumentList 'the connection closed before the whole package arrived')
        }
    }
    finally {
        if ($null -ne $response) {
            $response.Close()
        }
    }
}

function Receive-FromShare {
    # One attempt: from the partial file's length on (the share's file read from that offset).
    param ([string]$Source, [System.IO.Stream]$Out, [System.Collections.IDictionary]$Status)
    $total = Get-SourceLength -Path $Source
    $Status.bytes_total = $total
    if ($Out.Length -gt $total) {
        $Out.SetLength(0)
    }
    $offset = $Out.Length
    $in = Open-SourceFile -Path $Source -Offset $offset
    try {
        $Status.resumed_from = $offset
        $Status.bytes_done = $offset
        Copy-StreamTo -From $in -To $Out -Status $Status
        $Out.Flush()
    }
    finally {
        $in.Dispose()
    }
}

$specPath = Join-Path -Path $TransferDir -ChildPath 'spec.json'
$spec = Get-Content -LiteralPath $specPath -Raw | ConvertFrom-Json
$partial = Join-Path -Path $TransferDir -ChildPath 'package.partial'
$status = [ordered]@{
    state = 'running'; kind = $spec.kind; source = $spec.shown; attempts = 0; resumed_from = $null; bytes_done = [int64]0
    bytes_total = $null; sha256 = $null; error = $null; started = (Get-UtcStamp)
    finished = $null; updated = $null
}
try {
    # Only one runner writes the partial file: a second one finds it held and leaves everything to the first.
    try {
        $out = Open-PartialFile -Path $partial
    }
    catch [System.IO.IOException] {
        return
    }
    try {
        Write-TransferStatus -Status $status
        while ($true) {
            $status.attempts = [int]$status.attempts + 1
            try {
                if ($spec.kind -eq 'url') {
                    Receive-FromUrl -Address $spec.url -Out $out -Status $status
                }
                else {
                    Receive-FromShare -Source $spec.path -Out $out -Status $status
                }
                break
            }
            catch {
                $failure = $_.Exception
                if ((Test-PermanentFailure -Exception $failure) -or $status.attempts -ge [int]$spec.max_attempts) {
                    throw
                }
                $status.error = Get-FailureText -Exception $failure -Scrub $spec.url -Shown $spec.shown
                Write-TransferStatus -Status $status
                Start-Sleep -Seconds ([Math]::Min(30, 2 * [int]$status.attempts))
            }
        }
    }
    finally {
        Close-PartialFile -Stream $out -Path $partial
    }
    $status.sha256 = Get-FileSha256 -Path $partial
    $status.bytes_done = [int64](Get-Item -LiteralPath $partial).Length
    if ($status.sha256 -ne $spec.sha256) {
        Remove-Item -LiteralPath $partial -Force
        throw ("the package from $($spec.shown) has SHA-256 $($status.sha256), not the expected $($spec.sha256); it was " +
            'deleted and not staged')
    }
    New-Item -Path (Split-Path -Path $spec.package -Parent) -ItemType Directory -Force | Out-Null
    Move-Item -LiteralPath $partial -Destination $spec.package -Force
    $status.state = 'staged'
    $status.error = $null
}
catch {
    $status.state = 'failed'
    $status.error = Get-FailureText -Exception $_.Exception -Scrub $spec.url -Shown $spec.shown
}
finally {
    Remove-Item -LiteralPath $specPath -Force -ErrorAction SilentlyContinue
    if ($status.state -ne 'running') {
        $status.finished = (Get-UtcStamp)
        Write-TransferStatus -Status $status
    }
}
'@

# asr.process_server include: file_facts

# asr.process_server include: protected_files

# asr.process_server include: run_state

# asr.process_server include: secure_text

function Get-PackageFact {
    # The staged package: exists, size, SHA-256 (checked against ExpectedSha256), version resource.
    param ([string]$Path)
    $fact = [ordered]@{ path = $Path; exists = $false; size_bytes = $null; sha256 = $null; file_version = $null; product_version = $null }
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        return $fact
    }
    $fact.exists = $true
    $fact.size_bytes = [int64](Get-Item -LiteralPath $Path).Length
    $fact.sha256 = Get-FileSha256 -Path $Path
    $info = Get-FileVersionInfo -Path $Path
    $fact.file_version = $info.FileVersion
    $fact.product_version = $info.ProductVersion
    return $fact
}

function Read-JsonFile {
    param ([string]$Path)
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        return $null
    }
    return Get-Content -LiteralPath $Path -Raw | ConvertFrom-Json
}

function Get-RunnerCommandLine {
    # powershell.exe with a short -EncodedCommand that runs the runner file's text as a script block: a command, not a
    # script file, so no execution policy applies (an AllSigned group policy overrides -ExecutionPolicy Bypass for
    # -File), and the command line stays short (the runner itself is too long for one). No secret on it.
    param ([string]$Runner, [string]$TransferDir)
    $file = $Runner.Replace("'", "''")
    $folder = $TransferDir.Replace("'", "''")
    $header = '# asr.process_server package transfer runner start (written by package_stage v1)'
    $command = "$header`n& ([scriptblock]::Create((Get-Content -LiteralPath '$file' -Raw))) -TransferDir '$folder'"
    $encoded = [System.Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($command))
    $powershell = Join-Path -Path $env:SystemRoot -ChildPath 'System32\WindowsPowerShell\v1.0\powershell.exe'
    return '"{0}" -NoProfile -NonInteractive -EncodedCommand {1}' -f $powershell, $encoded
}

function Start-Transfer {
    # The spec (with the URL, in a folder only SYSTEM and Administrators can open) and the runner, started detached.
    param ([string]$TransferDir)
    New-Item -Path $TransferDir -ItemType Directory -Force | Out-Null
    Set-Acl -LiteralPath $TransferDir -AclObject (New-AdminOnlyAcl -Container)
    foreach ($name in @('status.json', 'started.json')) {
        Remove-Item -LiteralPath (Join-Path -Path $TransferDir -ChildPath $name) -Force -ErrorAction SilentlyContinue
    }
    $spec = [ordered]@{
        kind = $SourceKind; url = ''; path = $SourcePath; shown = $SourceShown; package = $PackagePath
        sha256 = $ExpectedSha256.ToLowerInvariant(); max_attempts = $MaxAttempts
    }
    if ($SourceKind -eq 'url') {
        $spec.url = ConvertFrom-SecureText -Value $Url
    }
    Set-FileText -Path (Join-Path -Path $TransferDir -ChildPath 'spec.json') -Text (ConvertTo-Json -InputObject $spec -Compress)
    $runner = Join-Path -Path $TransferDir -ChildPath 'runner.ps1'
    Set-Content -LiteralPath $runner -Value $RunnerText -Encoding UTF8
    $created = Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{
        CommandLine = Get-RunnerCommandLine -Runner $runner -TransferDir $TransferDir
        CurrentDirectory = $TransferDir
    }
    if ($created.ReturnValue -ne 0) {
        Remove-Item -LiteralPath (Join-Path -Path $TransferDir -ChildPath 'spec.json') -Force -ErrorAction SilentlyContinue
        throw ("Win32_Process.Create could not start the package transfer (return value $($created.ReturnValue)): the " +
            'account may not start processes through WMI, or a security policy refuses it. Nothing was transferred.')
    }
    $process = Get-Process -Id ([int]$created.ProcessId) -ErrorAction SilentlyContinue
    $record = [ordered]@{
        pid = [int]$created.ProcessId
        started = ConvertTo-IsoUtc -Value (Get-Date)
        # what tells this runner from a later process that got its id (Test-RunnerAlive, run_state fragment)
        process_started = if ($null -ne $process) { ConvertTo-IsoUtc -Value $process.StartTime -Milliseconds } else { $null }
    }
    Set-Content -LiteralPath (Join-Path -Path $TransferDir -ChildPath 'started.json') -Value (ConvertTo-Json -InputObject $record -Compress) -Encoding UTF8
}

$expected = $ExpectedSha256.ToLowerInvariant()
$transferDir = Join-Path -Path (Split-Path -Path $PackagePath -Parent) -ChildPath 'transfer'
$result = [ordered]@{ state = 'missing'; package = $null; transfer = $null; upload_path = $null; note = $null; changed = $false }

# ---- already staged? ---------------------------------------------------------------------------------------------
$package = Get-PackageFact -Path $PackagePath
if ($package.exists -and $package.sha256 -ne $expected) {
    $result.note = "$PackagePath had SHA-256 $($package.sha256), not $expected"
    if ($PSCmdlet.ShouldProcess($PackagePath, 'Remove a package that is not the expected one')) {
        Remove-Item -LiteralPath $PackagePath -Force
        $Ansible.Changed = $true
    }
    $package = Get-PackageFact -Path $PackagePath
}

# ---- a controller transfer (put_file) into the Windows temporary folder ------------------------------------------
if (-not $package.exists -and $SourceKind -eq 'upload') {
    $upload = Join-Path -Path (Join-Path -Path $env:SystemRoot -ChildPath 'Temp') -ChildPath $SourcePath
    $result.upload_path = $upload
    if (Test-Path -LiteralPath $upload -PathType Leaf) {
        $sha256 = Get-FileSha256 -Path $upload
        if ($sha256 -ne $expected) {
            $result.note = "the transferred package $upload had SHA-256 $sha256, not $expected (transfer corrupted?)"
        }
        if ($PSCmdlet.ShouldProcess($upload, 'Move the transferred package to its staging folder')) {
            if ($sha256 -eq $expected) {
                New-Item -Path (Split-Path -Path $PackagePath -Parent) -ItemType Directory -Force | Out-Null
                Move-Item -LiteralPath $upload -Destination $PackagePath -Force
            }
            else {
                Remove-Item -LiteralPath $upload -Force
            }
            $Ansible.Changed = $true
        }
        $package = Get-PackageFact -Path $PackagePath
    }
}

# ---- a transfer by the host (url, share) -------------------------------------------------------------------------
if (-not $package.exists -and ($SourceKind -eq 'url' -or $SourceKind -eq 'share')) {
    $statusPath = Join-Path -Path $transferDir -ChildPath 'status.json'
    $status = Read-JsonFile -Path $statusPath
    $started = Read-JsonFile -Path (Join-Path -Path $transferDir -ChildPath 'started.json')
    $alive = $null -ne $started -and (Test-RunnerAlive -Started $started)
    if ($null -ne $status -and $status.state -eq 'failed' -and -not $alive) {
        # Reported once; the next call starts again (a wrong package was deleted, a partial one resumes).
        $result.state = 'failed'
        $result.transfer = $status
        if ($PSCmdlet.ShouldProcess($statusPath, 'Set the failed transfer aside')) {
            Move-Item -LiteralPath $statusPath -Destination (Join-Path -Path $transferDir -ChildPath 'last-failure.json') -Force
        }
    }
    elseif ($alive) {
        $result.state = 'running'
        $result.transfer = $status
    }
    elseif ($PSCmdlet.ShouldProcess($PackagePath, "Transfer the Unified Setup package from $SourceShown")) {
        Start-Transfer -TransferDir $transferDir
        $Ansible.Changed = $true
        $result.state = 'running'
        $deadline = (Get-Date).AddSeconds($WaitSeconds)
        do {
            $status = Read-JsonFile -Path $statusPath
            if ($null -ne $status -and $status.state -ne 'running') {
                break
            }
            if ((Get-Date) -ge $deadline) {
                break
            }
            Start-Sleep -Milliseconds 500
        } while ($true)
        $result.transfer = $status
        if ($null -ne $status -and $status.state -eq 'failed') {
            $result.state = 'failed'
            Move-Item -LiteralPath $statusPath -Destination (Join-Path -Path $transferDir -ChildPath 'last-failure.json') -Force
        }
        $package = Get-PackageFact -Path $PackagePath
    }
    else {
        $result.state = 'would transfer'
    }
}

if ($package.exists) {
    $result.state = 'staged'
    if ($null -eq $result.transfer) {
        $result.transfer = Read-JsonFile -Path (Join-Path -Path $transferDir -ChildPath 'status.json')
    }
}
$result.package = $package
$result.changed = [bool]$Ansible.Changed
$Ansible.Result = ConvertTo-Json -InputObject $result -Depth 5 -Compress
