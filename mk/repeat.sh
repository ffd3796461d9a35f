#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the UML KUnit kernel of `make kunit` N times back to back (no
# rebuild) and check that every run gives the same result for every test
# case, all passing.  One line goes to BUILD_DIR/results/repeat.tsv.
#
# Usage: repeat.sh REPO_DIR BUILD_DIR [N]   (default 20)
set -uo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
n=${3:-20}
tree=$build/linux
bdir=$build/kunit-um
out=$build/results
work=$build/repeat
tsv=$out/repeat.tsv
mkdir -p "$out" "$work"
rm -f "$work"/run-*.txt
name="$n back-to-back UML runs give identical results"

if [ ! -x "$bdir/linux" ]; then
	printf 'FAIL\t%s\tno UML kernel in %s: run make kunit first\n' "$name" "$bdir" > "$tsv"
	exit 1
fi
start=$(date +%s)
for i in $(seq 1 "$n"); do
	(cd "$tree" && python3 tools/testing/kunit/kunit.py exec \
		--build_dir="$bdir" --json="$work/run-$i.json") > "$work/run-$i.log" 2>&1
	python3 - "$repo/mk" "$work/run-$i.json" > "$work/run-$i.txt" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
from summary import leaves
try:
    d = json.load(open(sys.argv[2]))
except (OSError, ValueError) as e:
    print("no results:", e)
    sys.exit(0)
for name, status in leaves(d, []):
    print(status, name)
PY
done
secs=$(( $(date +%s) - start ))
bad=""
for i in $(seq 2 "$n"); do
	cmp -s "$work/run-1.txt" "$work/run-$i.txt" || bad="$bad $i"
done
total=$(wc -l < "$work/run-1.txt")
npass=$(grep -c '^PASS ' "$work/run-1.txt")
if [ -n "$bad" ]; then
	printf 'FAIL\t%s\truns%s differ from run 1 (see %s)\n' "$name" "$bad" "$work" > "$tsv"
	for i in $bad; do diff "$work/run-1.txt" "$work/run-$i.txt" | head -n 5; done
	rc=1
elif [ "$npass" != "$total" ] || [ "$total" = 0 ]; then
	printf 'FAIL\t%s\t%s of %s cases pass in every run\n' "$name" "$npass" "$total" > "$tsv"
	rc=1
else
	printf 'PASS\t%s\t%s cases, all passed in every run, %ss\n' "$name" "$total" "$secs" > "$tsv"
	rc=0
fi
cat "$tsv"
exit "$rc"
