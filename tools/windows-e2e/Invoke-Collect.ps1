# Leaves one finding staged (the stale 5506 entry), runs 'keydoctor collect' and records what the live scan reports,
# for the Linux job to scan the bundle and expect the same findings (tools/windows-e2e/compare-findings.sh).
param([Parameter(Mandatory)][string] $OutputFolder)
. (Join-Path $PSScriptRoot 'Common.ps1')
New-Item -ItemType Directory -Force -Path $OutputFolder | Out-Null
& (Join-Path $PSScriptRoot 'Invoke-Scenarios.ps1') -Only 'stale-5506' -StageOnly
$live = Invoke-KeyDoctor -Arguments @('scan', '--json') -Allowed @(0, 1)
# 'keys list' without a folder reads this machine's stores in place, checked against its own MachineGuid.
$machineGuid = (Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Cryptography').MachineGuid
$keys = @(ConvertFrom-Json (Invoke-KeyDoctor -Arguments @('keys', 'list', '--json') -Allowed @(0, 1)))
$own = @($keys | Where-Object { $_.file -like "*_$machineGuid" })
if ($own.Count -eq 0) { throw "keys list of this machine shows no key file ending in its MachineGuid $machineGuid" }
if (@($keys | Where-Object { $_.path -notlike "$env:SystemDrive\*" }).Count -gt 0) { throw 'keys list of this machine shows a file outside the system drive' }
$bundle = Join-Path $OutputFolder 'windows-2022.zip'
Invoke-KeyDoctor -Arguments @('collect', '-o', $bundle, '--json') | Write-Host
if (Test-Path ([IO.Path]::ChangeExtension($bundle, '.partial.zip'))) { throw 'collect left a partial bundle on an elevated runner' }
$ids = @((ConvertFrom-Json $live).findings | ForEach-Object { "$($_.id) $($_.subject)" } | Sort-Object -Unique)
Set-Content -Path (Join-Path $OutputFolder 'expected-findings.txt') -Value $ids -Encoding utf8NoBOM
Write-Host "collected $bundle; the scan reports $($ids.Count) finding(s)"
