#!/usr/bin/env bash
# Whole-process figures of the shipped executable against the reference tools, in one sitting (docs/PERFORMANCE.md).
# Usage: bench/whole-process.sh KEYDOCTOR [WORKDIR] [PROCMON_PARSER]
#   KEYDOCTOR       the published executable (dotnet publish src/KeyDoctor.Cli -c Release -r linux-x64 --self-contained -o DIR)
#   WORKDIR         where the generated corpora go (default /tmp/keydoctor-bench); they are generated once and kept.
#   PROCMON_PARSER  procmon-parser's source folder (the one holding the procmon_parser package); when given, `trace`
#                   is compared with it (run with /usr/bin/python3 and Debian's python3-construct).
# Needs hyperfine, /usr/bin/time, evtxexport (libevtx-utils), regfexport (libregf-utils) and ../shared/fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
kd=$(realpath "$1"); work=${2:-/tmp/keydoctor-bench}; parser=${3:-}; fixtures=$(realpath ../shared/fixtures)
mkdir -p "$work"
bench() { dotnet run -c Release --project bench/KeyDoctor.Bench -- "$@"; }
[ -d "$work/evtx727" ] || bench evtx-corpus "$work/evtx727" 727 "$fixtures/evtx"
[ -d "$work/keys200k" ] || bench keystore 200000 --dir "$work/keys200k" --keep --no-measure
[ -f "$work/trace53k.pml" ] || bench pml - - 53000 --keep "$work/trace53k.pml" --no-measure
guid=4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b
system="$fixtures/hives/regipy/SYSTEM"
cat > "$work/evtxexport-each.sh" <<'SH'
#!/bin/sh
for f in "$1"/*.evtx; do evtxexport "$f"; done > /dev/null 2>&1
exit 0
SH
cat > "$work/cat-all.sh" <<'SH'
#!/bin/sh
find "$1" -type f -print0 | xargs -0 cat > /dev/null
SH
# procmon-parser doing the work of `trace --json`: every event with its five columns and details, one line each.
cat > "$work/procmon-parser-each.py" <<'PY'
import sys
from procmon_parser import ProcmonLogsReader
from procmon_parser.consts import get_error_message
out = sys.stdout
with open(sys.argv[1], "rb") as f:
    for e in ProcmonLogsReader(f, should_get_stacktrace=False):
        out.write("{}\t{}\t{}\t{}\t{}\t{}\t{}\n".format(e.date_filetime, e.process.process_name, e.process.pid, e.operation, e.path,
                                                     get_error_message(e.result), dict(e.details)))
PY
chmod +x "$work/evtxexport-each.sh" "$work/cat-all.sh"

# Wall median, then mean CPU (user + system): under load the CPU time is the steadier of the two.
median() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results']; print(' | '.join(f\"{x['median']*1000:.1f} ms (CPU {(x['user']+x['system'])*1000:.1f} ms)\" for x in r))" "$1"; }
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{ printf "%.0f MiB", $1 / 1024 }'; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

hyperfine -N -w 5 -r 40 --export-json "$work/explain.json" "$kd explain 0x80090016" >/dev/null
echo "explain 0x80090016: median $(median "$work/explain.json"), peak RSS $(rss "$kd" explain 0x80090016)"

hyperfine -N -w 1 -r 10 --output=null --export-json "$work/events.json" "$kd events $work/evtx727 --json" >/dev/null
hyperfine -w 0 -r 3 --export-json "$work/evtxexport.json" "$work/evtxexport-each.sh $work/evtx727" >/dev/null
echo "events <727 files> --json: median $(median "$work/events.json"), peak RSS $(rss "$kd" events "$work/evtx727" --json); evtxexport on each file: median $(median "$work/evtxexport.json")"

hyperfine -N -w 2 -r 20 --output=null --export-json "$work/reg.json" "$kd reg dump $system --json" >/dev/null
hyperfine -w 1 -r 5 --output=null --export-json "$work/regfexport.json" "regfexport $system" >/dev/null
echo "reg dump SYSTEM --json: median $(median "$work/reg.json"), peak RSS $(rss "$kd" reg dump "$system" --json); regfexport: median $(median "$work/regfexport.json")"

"$work/cat-all.sh" "$work/keys200k" # warm the page cache for both
hyperfine -N -i -w 1 -r 5 --output=null --export-json "$work/keys.json" "$kd keys list $work/keys200k --json --machine-guid $guid" >/dev/null
hyperfine -w 1 -r 5 --export-json "$work/cat.json" "$work/cat-all.sh $work/keys200k" >/dev/null
echo "keys list <200,000 files> --json: median $(median "$work/keys.json"), peak RSS $(rss "$kd" keys list "$work/keys200k" --json --machine-guid $guid); cat: median $(median "$work/cat.json")"
if [ -n "$parser" ]; then
  hyperfine -N -w 3 -r 30 --output=null --export-json "$work/trace.json" "$kd trace $work/trace53k.pml --json" >/dev/null
  PYTHONPATH=$(realpath "$parser") hyperfine -N -w 1 -r 5 --output=null --export-json "$work/procmon-parser.json" "/usr/bin/python3 $work/procmon-parser-each.py $work/trace53k.pml" >/dev/null
  echo "trace <53,000 events, 24.9 MB> --json: median $(median "$work/trace.json"), peak RSS $(rss "$kd" trace "$work/trace53k.pml" --json); procmon-parser: median $(median "$work/procmon-parser.json")"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
