#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Line and branch coverage per function the series adds or changes.

Usage: functions.py GCOV_JSON_DIR SERIES_DIFF

GCOV_JSON_DIR holds the *.gcov.json.gz that "gcov -b -j" wrote for the
fs/ext4 files the series changes; SERIES_DIFF is "git diff -U0 base HEAD"
of those files.  A function counts as added or changed when a line the
series adds lies between its first and last line.  The write-path
functions (the goal: every line and at least 95 % of the branches) come
first, then the others; at the end, every line and branch of the write
path that no test reached.
"""
import glob
import gzip
import json
import os
import re
import sys

WRITE_PATH = re.compile(r"^(ext4_iomap_buffered_\w+|ext4_iomap_punch_delalloc|"
                        r"ext4_iomap_valid|ext4_iomap_get_blocks|ext4_iomap_init_map|"
                        r"ext4_da_map_blocks|ext4_insert_delayed_blocks|"
                        r"ext4_da_reserve_space)$")


def added_lines(diff):
    """{file: set of line numbers the series adds}"""
    out, cur = {}, None
    for line in open(diff, errors="replace"):
        if line.startswith("+++ "):
            cur = line[6:].strip() if line.startswith("+++ b/") else None
            out.setdefault(cur, set())
        m = re.match(r"@@ -\S+ \+(\d+)(?:,(\d+))? @@", line)
        if m and cur:
            start, n = int(m.group(1)), int(m.group(2) or 1)
            out[cur].update(range(start, start + n))
    return out


def pct(a, b):
    return f"{100.0 * a / b:5.1f}%" if b else "   - "


def main():
    jdir, diff = sys.argv[1], sys.argv[2]
    added = added_lines(diff)
    rows, missed = [], []
    for path in sorted(glob.glob(os.path.join(jdir, "*.gcov.json.gz"))):
        data = json.load(gzip.open(path))
        for f in data.get("files", []):
            src = f["file"]
            rel = src[src.find("fs/ext4/"):] if "fs/ext4/" in src else src
            if rel not in added:
                continue
            lines = {ln["line_number"]: ln for ln in f.get("lines", [])}
            for fn in f.get("functions", []):
                lo, hi = fn["start_line"], fn["end_line"]
                if not any(lo <= n <= hi for n in added[rel]):
                    continue
                name = fn.get("demangled_name", fn["name"])
                la = lh = ba = bh = 0
                gaps = []
                for n in range(lo, hi + 1):
                    ln = lines.get(n)
                    if not ln:
                        continue
                    la += 1
                    if ln["count"]:
                        lh += 1
                    else:
                        gaps.append(f"{rel}:{n} {name}: line never run")
                    br = ln.get("branches", [])
                    ba += len(br)
                    taken = sum(1 for b in br if b["count"])
                    bh += taken
                    if ln["count"] and taken < len(br):
                        gaps.append(f"{rel}:{n} {name}: {len(br) - taken} of "
                                    f"{len(br)} branches never taken")
                wp = bool(WRITE_PATH.match(name))
                rows.append((not wp, rel, lo, name, la, lh, ba, bh))
                if wp:
                    missed.extend(gaps)
    rows.sort()
    for group, title in ((False, "Write path (goal: 100 % of lines, >= 95 % of branches)"),
                         (True, "Every other function the series adds or changes")):
        sel = [r for r in rows if r[0] == group]
        if not sel:
            continue
        tl = sum(r[4] for r in sel), sum(r[5] for r in sel)
        tb = sum(r[6] for r in sel), sum(r[7] for r in sel)
        print(f"{title}: {len(sel)} functions, lines {tl[1]}/{tl[0]} {pct(tl[1], tl[0])}, "
              f"branches {tb[1]}/{tb[0]} {pct(tb[1], tb[0])}")
    print()
    for group, title in ((False, "Write path"), (True, "Other functions added or changed")):
        sel = [r for r in rows if r[0] == group]
        print(f"{title}:")
        print(f"  {'function':44} {'file':16} {'lines':>15} {'branches':>15}")
        for _, rel, lo, name, la, lh, ba, bh in sel:
            print(f"  {name:44} {os.path.basename(rel) + ':' + str(lo):16} "
                  f"{lh:4}/{la:<4} {pct(lh, la)} {bh:4}/{ba:<4} {pct(bh, ba)}")
        print()
    print("Not covered in the write path:")
    for g in missed or ["  (nothing)"]:
        print("  " + g.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
