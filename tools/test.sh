#!/usr/bin/env bash
# Runs every KeyDoctor test on a fresh machine with the .NET SDK: installs the Debian reference tools the
# tests compare against (when missing and apt is usable), publishes the NativeAOT Linux executable and the single-file
# Windows build (the tests compare both with the in-process commands, the Windows one under Wine), lints the
# GitHub workflows and runs the xunit suite. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# Reference tools, data and the browser the tests use: binary or file to look for, then its Debian package.
prerequisites=(
  "/usr/bin/evtxexport libevtx-utils"
  "/usr/bin/regfexport libregf-utils"
  "/usr/bin/evtexport libevt-utils"
  "/usr/share/mingw-w64/include/winerror.h mingw-w64-common"
  "/usr/lib/python3/dist-packages/Evtx python3-evtx"
  "/usr/lib/python3/dist-packages/impacket python3-impacket"
  "/usr/bin/chromium chromium"
  "/usr/bin/afl-fuzz afl++"
  "/usr/lib/postgresql/15/bin/initdb postgresql" # the store tests start a throw-away cluster from its binaries
  "/usr/lib/wine/wine64 wine64"                  # the Windows build's smoke tests (tests/KeyDoctor.Tests/Windows)
  "/usr/bin/yamllint yamllint"                   # .github/workflows lint
)
missing=()
for entry in "${prerequisites[@]}"; do
  read -r path package <<<"$entry"
  [ -e "$path" ] || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing reference tools: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# The shipped Linux executable (NativeAOT), published once: the tests run it (KEYDOCTOR_AOT_BINARY) and check its
# publish log for trim/AOT warnings (KEYDOCTOR_AOT_PUBLISH_LOG).
mkdir -p artifacts
rm -rf artifacts/linux-x64
publish_log=artifacts/linux-x64-publish.log
if ! dotnet publish src/KeyDoctor.Cli/KeyDoctor.Cli.csproj -c Release -r linux-x64 --self-contained \
    -o artifacts/linux-x64 -nologo >"$publish_log" 2>&1; then
  cat "$publish_log"
  echo "tests: 0 passed, 1 failed (the NativeAOT publish)"
  exit 1
fi
artifacts/linux-x64/keydoctor --version
export KEYDOCTOR_AOT_BINARY="$PWD/artifacts/linux-x64/keydoctor" KEYDOCTOR_AOT_PUBLISH_LOG="$PWD/$publish_log"

# The Windows build (self-contained single-file ReadyToRun keydoctor.exe; NativeAOT does not cross-compile to
# Windows), published before the tests: the Wine smoke tests run it against the Linux results (KEYDOCTOR_WIN_EXE).
rm -rf artifacts/win-x64
if ! dotnet publish src/KeyDoctor.Cli/KeyDoctor.Cli.csproj -c Release -r win-x64 --self-contained \
    -p:PublishSingleFile=true -o artifacts/win-x64 -nologo >artifacts/win-x64-publish.log 2>&1; then
  cat artifacts/win-x64-publish.log
  echo "tests: 0 passed, 1 failed (the win-x64 publish)"
  exit 1
fi
export KEYDOCTOR_WIN_EXE="$PWD/artifacts/win-x64/keydoctor.exe" KEYDOCTOR_WINE=/usr/lib/wine/wine64

# The Windows end-to-end workflow and its YAML lint clean (it runs on GitHub's windows-2022 runners, not here).
yamllint -c .yamllint.yml .github/workflows/

log=$(mktemp)
status=0
dotnet test KeyDoctor.slnx -c Release 2>&1 | tee "$log" || status=$?

# One plain closing line with the totals, whatever the runner printed above.
total() { grep -oE "$1: +[0-9]+" "$log" | awk '{ n += $2 } END { print n + 0 }'; }
passed=$(total Passed); failed=$(total Failed); skipped=$(total Skipped)
rm -f "$log"
if [ "$status" -ne 0 ]; then
  echo "tests: $passed passed, $failed failed, $skipped skipped"
  exit "$status"
fi

# The .NET tool package installs and runs the way the README says.
rm -rf artifacts/package artifacts/tool
dotnet pack src/KeyDoctor.Cli/KeyDoctor.Cli.csproj -c Release -o artifacts/package -v quiet -nologo
dotnet tool install keydoctor --tool-path artifacts/tool --add-source artifacts/package >/dev/null
artifacts/tool/keydoctor --version | grep -E '^[0-9]+\.[0-9]+\.[0-9]+\+[0-9a-f]{7,}$'

# The fuzz harness still runs under afl++ with SharpFuzz instrumentation (the suite ran every target in-process):
# a short smoke campaign on one cheap target, so the long campaigns of tests/KeyDoctor.Fuzz/README.md keep working.
rm -rf artifacts/fuzz-smoke
tools/fuzz/campaign.sh sddl 20s artifacts/fuzz-smoke/sddl

echo "tests: $passed passed, $failed failed, $skipped skipped"
