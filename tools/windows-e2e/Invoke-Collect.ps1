# Leaves one finding staged (the stale 5506 entry), runs 'keydoctor collect' and records what the live scan reports,
# for the Linux job to scan the bundle and expect the same findings (tools/windows-e2e/compare-findings.sh).
param([Parameter(Mandatory)][string] $OutputFolder)
. (Join-Path $PSScriptRoot 'Common.ps1')
New-Item -ItemType Directory -Force -Path $OutputFolder | Out-Null
& (Join-Path $PSScriptRoot 'Invoke-Scenarios.ps1') -Only 'stale-5506' -StageOnly
$live = Invoke-KeyDoctor -Arguments @('scan', '--json') -Allowed @(0, 1)
$bundle = Join-Path $OutputFolder 'windows-2022.zip'
Invoke-KeyDoctor -Arguments @('collect', '-o', $bundle, '--json') | Write-Host
if (Test-Path ([IO.Path]::ChangeExtension($bundle, '.partial.zip'))) { throw 'collect left a partial bundle on an elevated runner' }
$ids = @((ConvertFrom-Json $live).findings | ForEach-Object { "$($_.id) $($_.subject)" } | Sort-Object -Unique)
Set-Content -Path (Join-Path $OutputFolder 'expected-findings.txt') -Value $ids -Encoding utf8NoBOM
Write-Host "collected $bundle; the scan reports $($ids.Count) finding(s)"
