#!/usr/bin/env bash
# keys clean at scale (docs/PERFORMANCE.md#keys-clean): an image with N key files in MachineKeys, then the whole
# keydoctor process against `cat` of the same files, with peak memory.
# Usage: bench/keys-clean.sh N KEYDOCTOR [WORKDIR]
#   N          key files to generate (200000, 1000000, 5000000)
#   KEYDOCTOR  the keydoctor to run: the published NativeAOT executable (what ships, e.g. /tmp/kd-aot/keydoctor),
#              or "dotnet path/keydoctor.dll"
#   WORKDIR    where the image goes (default /tmp/keydoctor-bench); generated once and kept.
# The files are the `keys list` benchmark's (bench keystore): GUID containers, 1% damaged, 0.5% under a cloned GUID.
# They are all new, so --older-than 0 makes every unused one an orphan: the most work the plan can have.
set -euo pipefail
cd "$(dirname "$0")/.."
n=$1; kd=$2; work=${3:-/tmp/keydoctor-bench}
root="$work/clean-image-$n"
keys="$root/ProgramData/Microsoft/Crypto/RSA/MachineKeys"
mkdir -p "$root/registry" "$keys"
# KD_BENCH: a KeyDoctor.Bench.dll already built (e.g. another worktree's), to skip the build.
bench=${KD_BENCH:-bench/KeyDoctor.Bench/bin/Release/net10.0/KeyDoctor.Bench.dll}
[ -f "$bench" ] || dotnet build -c Release bench/KeyDoctor.Bench
nice -n 19 ionice -c3 dotnet "$bench" keystore "$n" --dir "$keys" --keep --no-measure   # skipped when the folder is complete
printf 'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography]\r\n"MachineGuid"="4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b"\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\MY\\Certificates]\r\n\r\n' > "$root/registry/machine.reg"
echo "load before: $(cat /proc/loadavg)"
find "$keys" -type f -print0 | xargs -0 cat > /dev/null   # warm the page cache for both sides
t() { /usr/bin/time -f "%e s elapsed, %M KiB peak RSS" "$@"; }
echo "== cat";                 t sh -c "find '$keys' -type f -print0 | xargs -0 cat > /dev/null"
echo "== keys clean --json";   t sh -c "$kd keys clean '$root' --older-than 0 --json > /dev/null" || true
echo "== keys clean -o plan";  t sh -c "$kd keys clean '$root' --older-than 0 -o '$work/clean-plan-$n.json' > '$work/clean-$n.txt'" || true
head -5 "$work/clean-$n.txt"
ls -l "$work/clean-plan-$n.json"
echo "load after: $(cat /proc/loadavg)"
