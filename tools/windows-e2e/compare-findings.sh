#!/usr/bin/env bash
# The Linux half of .github/workflows/windows.yml: scans the bundle collected on the Windows runner and expects the
# findings the live scan reported there (id and subject, sorted). Usage: compare-findings.sh KEYDOCTOR BUNDLE EXPECTED
set -euo pipefail
keydoctor=$1 bundle=$2 expected=$3
status=0
"$keydoctor" scan "$bundle" --json >scan.json || status=$?
if [ "$status" -gt 1 ]; then echo "keydoctor scan $bundle failed ($status)"; exit 1; fi
python3 - scan.json <<'PY' | LC_ALL=C sort -u >actual-findings.txt
import json, sys
findings = json.load(open(sys.argv[1], encoding="utf-8"))["findings"]
for line in sorted({f"{f['id']} {f['subject']}" for f in findings}):
    print(line)
PY
# The expected file comes from PowerShell (UTF-8, CRLF): compare the lines.
if ! diff <(tr -d '\r' <"$expected" | sed '/^$/d' | LC_ALL=C sort -u) actual-findings.txt; then
  echo "the Linux scan of $bundle does not report what the live scan on Windows reported"
  exit 1
fi
echo "same $(wc -l <actual-findings.txt) finding(s) on Linux as on the Windows runner"
