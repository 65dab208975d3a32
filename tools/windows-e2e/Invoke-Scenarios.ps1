# Stages each seed failure a GitHub Windows runner can stage, one at a time, on the site New-TestSite.ps1 made, and
# for each: the live scan reports the finding, 'repair plan' plans it, 'repair apply' fixes it (HTTPS answers again),
# 'repair rollback' brings the broken state back (the scan reports it again), then the scenario is undone by hand.
# What cannot be staged on a runner, and why: docs/windows.md.
# -StageOnly stages the -Only scenarios and leaves them (Invoke-Collect.ps1 collects a machine with a known finding).
param([string[]] $Only, [switch] $StageOnly)
. (Join-Path $PSScriptRoot 'Common.ps1')
Import-Module WebAdministration

$state = Get-Content (Join-Path $WorkRoot 'state.json') -Raw | ConvertFrom-Json
$healthy = Join-Path $WorkRoot 'healthy.zip'
$machineKeys = Join-Path $env:ProgramData 'Microsoft\Crypto\RSA\MachineKeys'
$appHost = Join-Path $env:windir 'System32\inetsrv\config\applicationHost.config'
$siteId = (Get-Website -Name $SiteName).id

function Set-SslCert([string] $Thumbprint) {
    & netsh.exe http update sslcert ipport=0.0.0.0:$HttpsPort certhash=$Thumbprint appid=$($state.AppId) certstorename=MY
    if ($LASTEXITCODE -ne 0) { throw "netsh http update sslcert failed ($LASTEXITCODE)" }
}

$scenarios = @(
    @{
        Name = 'capi-key-deleted'; Finding = 'KD2008'; Apply = 'fixes'
        Stage = { $script:moved = Get-KeyFile $state.Capi; Move-Item $script:moved (Join-Path $WorkRoot 'capi-key') -Force }
        Undo = { if (-not (Test-Path $script:moved)) { Move-Item (Join-Path $WorkRoot 'capi-key') $script:moved -Force } }
    },
    @{
        Name = 'cng-key-deleted'; Finding = 'KD2008'; Apply = 'fixes'
        Stage = { $script:movedCng = Get-KeyFile $state.Cng; Move-Item $script:movedCng (Join-Path $WorkRoot 'cng-key') -Force }
        Undo = { if (-not (Test-Path $script:movedCng)) { Move-Item (Join-Path $WorkRoot 'cng-key') $script:movedCng -Force } }
    },
    @{
        Name = 'key-acl-removed'; Finding = 'KD1006'; Apply = 'fixes'
        Stage = {
            $script:aclFile = Get-KeyFile $state.Capi
            & icacls.exe $machineKeys /save (Join-Path $WorkRoot 'machinekeys.acl') /c | Out-Null
            # Only Administrators left: SYSTEM (lsass and HTTP.sys use the key as SYSTEM) is kept out.
            & icacls.exe $script:aclFile /inheritance:r /grant:r 'BUILTIN\Administrators:F' | Out-Null
            if ($LASTEXITCODE -ne 0) { throw "icacls failed ($LASTEXITCODE)" }
        }
        Undo = { & icacls.exe $machineKeys /restore (Join-Path $WorkRoot 'machinekeys.acl') /c | Out-Null }
    },
    @{
        # The PFX comes back with KeySpec 2; the repair re-imports it as AT_KEYEXCHANGE, which asks for the PFX
        # password at the console: with nobody to answer on a runner, apply must refuse it and change nothing.
        Name = 'at-signature'; Finding = 'KD2003'; Apply = 'refused'
        Stage = {
            $password = [System.Net.NetworkCredential]::new('', ($state.Password | ConvertTo-SecureString)).Password
            Remove-Item "Cert:\LocalMachine\My\$($state.Capi)" -DeleteKey
            & certutil.exe -f -p $password -importpfx MY (Join-Path $WorkRoot 'capi.pfx') AT_SIGNATURE | Out-Null
            if ($LASTEXITCODE -ne 0) { throw "certutil -importpfx AT_SIGNATURE failed ($LASTEXITCODE)" }
        }
        Undo = {
            $password = $state.Password | ConvertTo-SecureString
            Remove-Item "Cert:\LocalMachine\My\$($state.Capi)" -DeleteKey
            Import-PfxCertificate -FilePath (Join-Path $WorkRoot 'capi.pfx') -CertStoreLocation Cert:\LocalMachine\My -Password $password -Exportable | Out-Null
        }
    },
    @{
        # The binding names a renewed-away certificate that is no longer in the store; the store holds the one to use.
        Name = 'binding-missing-thumbprint'; Finding = 'KD2004'; Apply = 'fixes'
        Stage = {
            $gone = New-SelfSignedCertificate -DnsName 'capi.keydoctor.test', 'localhost' -CertStoreLocation Cert:\LocalMachine\My `
                -Provider 'Microsoft Enhanced RSA and AES Cryptographic Provider' -KeySpec KeyExchange -NotAfter (Get-Date).AddDays(30)
            Set-SslCert $gone.Thumbprint
            Remove-Item "Cert:\LocalMachine\My\$($gone.Thumbprint)" -DeleteKey
        }
        Undo = { Set-SslCert $state.Capi }
    },
    @{
        # An ABO-era customMetadata entry (5506) with a hash no certificate has.
        Name = 'stale-5506'; Finding = 'KD2005'; Apply = 'fixes'
        Stage = {
            Copy-Item $appHost (Join-Path $WorkRoot 'applicationHost.config') -Force
            [xml] $config = Get-Content $appHost -Raw
            $section = $config.configuration.'system.applicationHost'
            $metadata = $config.CreateElement('customMetadata')
            $metadata.InnerXml = "<key path=`"LM/W3SVC/$siteId`"><property id=`"5506`" dataType=`"Binary`" userType=`"1`" attributes=`"None`" value=`"ABEiM0RVZneImaq7zN3u/wARIjM=`" /><property id=`"5511`" dataType=`"String`" userType=`"1`" attributes=`"None`" value=`"MY`" /></key>"
            $section.AppendChild($metadata) | Out-Null
            $config.Save($appHost)
        }
        Undo = { Copy-Item (Join-Path $WorkRoot 'applicationHost.config') $appHost -Force }
    },
    @{
        Name = 'machinekeys-compressed'; Finding = 'KD1004'; Apply = 'fixes'
        Stage = { & compact.exe /c /s:$machineKeys /i /q | Out-Null }
        Undo = { & compact.exe /u /s:$machineKeys /i /q | Out-Null }
    }
)

$failures = @()
foreach ($scenario in $scenarios) {
    if ($Only -and $Only -notcontains $scenario.Name) { continue }
    Write-Host "=== $($scenario.Name): expect $($scenario.Finding)"
    if ($StageOnly) { & $scenario.Stage; Assert-Finding $scenario.Finding; continue }
    try {
        & $scenario.Stage
        Assert-Finding $scenario.Finding
        $plan = Join-Path $WorkRoot "$($scenario.Name).plan.ps1"
        $run = Join-Path $WorkRoot "$($scenario.Name).run"
        Invoke-KeyDoctor -Arguments @('repair', 'plan', '--snapshot', $healthy, '-o', $plan) -Allowed @(0, 1) | Write-Host
        if (-not (Select-String -Path $plan -Pattern $scenario.Finding -Quiet)) { throw "the plan does not mention $($scenario.Finding)" }
        if ($scenario.Apply -eq 'refused') {
            Invoke-KeyDoctor -Arguments @('repair', 'apply', $plan, '--snapshot', $healthy, '--run-folder', $run, '--yes') -Allowed @(1, 2) | Write-Host
            Assert-Finding $scenario.Finding # nothing changed
        } else {
            Invoke-KeyDoctor -Arguments @('repair', 'apply', $plan, '--snapshot', $healthy, '--run-folder', $run, '--yes') | Write-Host
            Assert-Finding $scenario.Finding -Absent
            Restart-Site
            Assert-Https
            Invoke-KeyDoctor -Arguments @('repair', 'rollback', $run) | Write-Host
            Assert-Finding $scenario.Finding # the broken state is back
        }
    } catch {
        $failures += "$($scenario.Name): $_"
        Write-Host "::error::$($scenario.Name): $_"
    } finally {
        & $scenario.Undo
    }
    Restart-Site
    Assert-Finding $scenario.Finding -Absent
    Assert-Https
}
if ($failures.Count -gt 0) { throw "$($failures.Count) scenario(s) failed:`n$($failures -join "`n")" }
Write-Host 'every staged scenario passed'
