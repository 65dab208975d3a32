# Creates the healthy starting point: a CryptoAPI and a CNG certificate in LocalMachine\My, an HTTPS site bound to
# the CryptoAPI one (IIS binding and HTTP.sys sslcert), checks it answers, and takes the snapshot the repairs use.
. (Join-Path $PSScriptRoot 'Common.ps1')
Import-Module WebAdministration

$capi = New-SelfSignedCertificate -DnsName 'capi.keydoctor.test', 'localhost' -CertStoreLocation Cert:\LocalMachine\My `
    -Provider 'Microsoft Enhanced RSA and AES Cryptographic Provider' -KeySpec KeyExchange -KeyLength 2048 -KeyExportPolicy Exportable
$cng = New-SelfSignedCertificate -DnsName 'cng.keydoctor.test' -CertStoreLocation Cert:\LocalMachine\My `
    -Provider 'Microsoft Software Key Storage Provider' -KeyAlgorithm RSA -KeyLength 2048 -KeyExportPolicy Exportable

$root = Join-Path $env:SystemDrive 'inetpub\keydoctor-e2e'
New-Item -ItemType Directory -Force -Path $root | Out-Null
Set-Content -Path (Join-Path $root 'index.html') -Value 'keydoctor e2e' -Encoding ascii
New-Website -Name $SiteName -PhysicalPath $root -Port 8080 -Force | Out-Null
New-WebBinding -Name $SiteName -Protocol https -Port $HttpsPort -IPAddress '*'
$appid = '{4dc3e181-e14b-4a21-b022-59fc669b0914}'
& netsh.exe http add sslcert ipport=0.0.0.0:$HttpsPort certhash=$($capi.Thumbprint) appid=$appid certstorename=MY
if ($LASTEXITCODE -ne 0) { throw "netsh http add sslcert failed ($LASTEXITCODE)" }
Start-Website -Name $SiteName
Start-Sleep -Seconds 2
Assert-Https

# The PFX of each certificate, for the AT_SIGNATURE re-import, and the snapshot repairs copy key files from.
$password = ConvertTo-SecureString -String ([guid]::NewGuid().ToString()) -AsPlainText -Force
Export-PfxCertificate -Cert $capi -FilePath (Join-Path $WorkRoot 'capi.pfx') -Password $password | Out-Null
$state = [pscustomobject]@{ Capi = $capi.Thumbprint; Cng = $cng.Thumbprint; AppId = $appid; Password = ($password | ConvertFrom-SecureString) }
$state | ConvertTo-Json | Set-Content -Path (Join-Path $WorkRoot 'state.json') -Encoding utf8
Invoke-KeyDoctor -Arguments @('snapshot', '-o', (Join-Path $WorkRoot 'healthy.zip')) | Out-Null
Invoke-KeyDoctor -Arguments @('scan') -Allowed @(0, 1) | Write-Host
Write-Host "CryptoAPI certificate $($capi.Thumbprint) bound to :$HttpsPort; CNG certificate $($cng.Thumbprint)"
