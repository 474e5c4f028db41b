# asr.process_server fragment: protected_files
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Spliced by load_script into setup_start and proxy_apply: the files that hold secrets or what setup reads (the
# passphrase [1.3], the proxy settings [8]) are written only where SYSTEM and Administrators alone may read them
# (ARCHITECTURE.md decision 6).
function New-FileSystemSecurity {
    # Windows seam (the lab's shim and the Pester tests replace it): an empty access control list for a folder
    # (-Container) or a file.
    param ([switch]$Container)
    if ($Container) {
        return New-Object -TypeName System.Security.AccessControl.DirectorySecurity
    }
    return New-Object -TypeName System.Security.AccessControl.FileSecurity
}

function New-SidAccessRule {
    # Windows seam (the lab's shim and the Pester tests replace it): full control for one account, given by its SID;
    # a folder's rule (-Container) is inherited by the folders and files it contains.
    param ([string]$Sid, [switch]$Container)
    $identity = New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $Sid
    if ($Container) {
        return New-Object -TypeName System.Security.AccessControl.FileSystemAccessRule -ArgumentList @(
            $identity, 'FullControl', 'ContainerInherit, ObjectInherit', 'None', 'Allow')
    }
    return New-Object -TypeName System.Security.AccessControl.FileSystemAccessRule -ArgumentList $identity, 'FullControl', 'Allow'
}

function Set-FileText {
    # Windows seam (the lab's shim and the Pester tests replace it): write a file's whole text, UTF-8 without BOM.
    param ([string]$Path, [string]$Text)
    [System.IO.File]::WriteAllText($Path, $Text, (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false))
}

function New-AdminOnlyAcl {
    # SYSTEM (S-1-5-18) and BUILTIN\Administrators (S-1-5-32-544) only, inheritance from the parent removed.
    param ([switch]$Container)
    $acl = New-FileSystemSecurity -Container:$Container
    $acl.SetAccessRuleProtection($true, $false)
    foreach ($sid in @('S-1-5-18', 'S-1-5-32-544')) {
        $acl.AddAccessRule((New-SidAccessRule -Sid $sid -Container:$Container))
    }
    return $acl
}
