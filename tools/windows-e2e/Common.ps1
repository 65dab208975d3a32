# Helpers shared by the Windows end-to-end scripts (.github/workflows/windows.yml). Dot-source it.
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$script:KeyDoctor = if ($env:KEYDOCTOR_EXE) { $env:KEYDOCTOR_EXE } else { Join-Path $PSScriptRoot '..\..\artifacts\win-x64\keydoctor.exe' }
$script:WorkRoot = if ($env:KEYDOCTOR_E2E_WORK) { $env:KEYDOCTOR_E2E_WORK } else { Join-Path $env:RUNNER_TEMP 'keydoctor-e2e' }
$script:HttpsPort = 8443
$script:SiteName = 'KeyDoctorE2E'
New-Item -ItemType Directory -Force -Path $script:WorkRoot | Out-Null

function Invoke-KeyDoctor {
    # Runs keydoctor.exe with its argv; returns stdout; throws unless the exit code is one of -Allowed.
    param([Parameter(Mandatory)][string[]] $Arguments, [int[]] $Allowed = @(0))
    Write-Host "keydoctor $($Arguments -join ' ')"
    $output = & $script:KeyDoctor @Arguments
    $code = $LASTEXITCODE
    if ($Allowed -notcontains $code) {
        throw "keydoctor $($Arguments -join ' ') exited $code (expected $($Allowed -join ' or ')): $($output -join "`n")"
    }
    return ($output -join "`n")
}

function Get-Finding {
    # The live scan's findings (id and subject), from 'keydoctor scan --json'.
    $json = Invoke-KeyDoctor -Arguments @('scan', '--json') -Allowed @(0, 1)
    return @((ConvertFrom-Json $json).findings | ForEach-Object { [pscustomobject]@{ Id = $_.id; Subject = $_.subject } })
}

function Assert-Finding {
    param([Parameter(Mandatory)][string] $Id, [switch] $Absent)
    $found = @(Get-Finding | Where-Object Id -EQ $Id)
    if ($Absent -and $found.Count -gt 0) { throw "expected no $Id, the scan reports: $($found.Subject -join '; ')" }
    if (-not $Absent -and $found.Count -eq 0) { throw "expected $Id, the scan does not report it" }
    Write-Host ($(if ($Absent) { "ok: no $Id" } else { "ok: $Id ($($found[0].Subject))" }))
}

function Test-Https {
    # True when the site answers over HTTPS (any HTTP status: the TLS handshake is what the key breaks).
    param([int] $Port = $script:HttpsPort)
    $code = & curl.exe --silent --insecure --max-time 20 --output NUL --write-out '%{http_code}' "https://localhost:$Port/"
    return ($LASTEXITCODE -eq 0 -and $code -match '^[1-5][0-9][0-9]$')
}

function Assert-Https {
    param([switch] $Broken)
    $answers = Test-Https
    if ($Broken) { return } # a broken key may still be cached by HTTP.sys: only recovery is asserted
    if (-not $answers) { throw "https://localhost:$script:HttpsPort/ does not answer over HTTPS" }
    Write-Host "ok: https://localhost:$script:HttpsPort/ answers"
}

function Get-KeyFile {
    # The key file of a LocalMachine\My certificate: CryptoAPI (MachineKeys) or CNG (Crypto\Keys).
    param([Parameter(Mandatory)][string] $Thumbprint)
    $certificate = Get-Item "Cert:\LocalMachine\My\$Thumbprint"
    $rsa = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($certificate)
    if ($rsa -is [System.Security.Cryptography.RSACng]) {
        $name = $rsa.Key.UniqueName
        return Join-Path $env:ProgramData "Microsoft\Crypto\Keys\$name"
    }
    $name = $certificate.PrivateKey.CspKeyContainerInfo.UniqueKeyContainerName
    return Join-Path $env:ProgramData "Microsoft\Crypto\RSA\MachineKeys\$name"
}

function Restart-Site {
    Import-Module WebAdministration
    Restart-WebAppPool -Name DefaultAppPool -ErrorAction SilentlyContinue
    & iisreset.exe /restart | Out-Null
}
