# Installs IIS (Web-Server with its management tools) on the windows-2022 runner.
. (Join-Path $PSScriptRoot 'Common.ps1')
if (Get-Command Install-WindowsFeature -ErrorAction SilentlyContinue) {
    $result = Install-WindowsFeature -Name Web-Server, Web-Mgmt-Tools, Web-Scripting-Tools -IncludeManagementTools
    if (-not $result.Success) { throw "Install-WindowsFeature Web-Server failed: $($result.ExitCode)" }
} else {
    Enable-WindowsOptionalFeature -Online -FeatureName IIS-WebServerRole, IIS-WebServer, IIS-ManagementScriptingTools -All -NoRestart | Out-Null
}
Import-Module WebAdministration
Write-Host "IIS $((Get-ItemProperty HKLM:\SOFTWARE\Microsoft\InetStp).VersionString) installed"
