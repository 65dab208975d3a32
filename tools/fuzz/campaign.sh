#!/usr/bin/env bash
# A long, coverage-guided campaign on one reader: afl++ drives the SharpFuzz-instrumented KeyDoctor.Core.dll.
#   tools/fuzz/campaign.sh <target> [duration] [work-folder]     duration: minutes (30) or seconds ("20s")
# Targets: `dotnet run --project tests/KeyDoctor.Fuzz -- list`. Runs at nice 19 on one core; the results
# (queue, crashes, hangs, fuzzer_stats) stay in the work folder, default artifacts/fuzz/<target>. See
# tests/KeyDoctor.Fuzz/README.md for reading them and turning a crash into a regression test.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${1:?usage: campaign.sh <target> [minutes] [work-folder]}
duration=${2:-30}
if [[ $duration == *s ]]; then seconds=${duration%s}; else seconds=$((duration * 60)); fi
work=${3:-artifacts/fuzz/$target}

if ! command -v afl-fuzz >/dev/null; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends afl++ >/dev/null
fi
tools=artifacts/tools
if [ ! -x "$tools/sharpfuzz" ]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools" >/dev/null
fi

# A private copy of the binaries: rebuilding the repository during a campaign must not change what afl runs.
rm -rf "$work/bin" "$work/seeds"
dotnet publish tests/KeyDoctor.Fuzz/KeyDoctor.Fuzz.csproj -c Release -o "$work/bin" -v quiet -nologo
# Seeds first: instrumented code may only run under afl-fuzz (it writes to afl's shared memory).
"$work/bin/keydoctor-fuzz" seeds "$target" "$work/seeds"
"$tools/sharpfuzz" "$work/bin/KeyDoctor.Core.dll" >/dev/null

resume=()
# Continue an earlier campaign's queue when there is one; start from the seeds otherwise.
if compgen -G "$work/out/default/queue/id:*" >/dev/null; then resume=(-i -); else rm -rf "$work/out"; fi
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
export DOTNET_TieredCompilation=0 DOTNET_CLI_TELEMETRY_OPTOUT=1
input=(-i "$work/seeds")
[ ${#resume[@]} -gt 0 ] && input=("${resume[@]}")
nice -n 19 afl-fuzz "${input[@]}" -o "$work/out" -t 10000 -m none -V "$seconds" \
  -- "$work/bin/keydoctor-fuzz" afl "$target" >"$work/afl.log" 2>&1 || true

stats="$work/out/default/fuzzer_stats"
[ -f "$stats" ] || { echo "afl-fuzz did not start; see $work/afl.log" >&2; exit 1; }
get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
echo "$target: $(get execs_done) executions in $(( $(get last_update) - $(get start_time) )) s ($(get execs_per_sec)/s)," \
  "corpus $(get corpus_count), coverage $(get bitmap_cvg), crashes $(get saved_crashes), hangs $(get saved_hangs)"
[ "$(get execs_done)" -gt 0 ] || { echo "afl-fuzz ran no input; see $work/afl.log" >&2; exit 1; }
# A crash is a contract violation (tests/KeyDoctor.Fuzz/README.md says how to turn it into a regression test).
[ "$(get saved_crashes)" -eq 0 ] && [ "$(get saved_hangs)" -eq 0 ] || exit 3
