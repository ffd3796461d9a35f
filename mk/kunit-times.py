#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Per-case run time of a KUnit suite, from a KTAP console log with
printk timestamps (CONFIG_PRINTK_TIME, as in .kunitconfig).

Usage: kunit-times.py KTAP [SUITE]   (default suite: ext4_iomap_write)

The timestamps are only as fine as the kernel's clock: under UML they
move in jiffies (10 ms), so use an x86_64 or arm64 log for per-case
figures.

A case's time is from the previous result line (or the start of its
suite or parameterised case) to its own "ok"/"not ok" line.  Prints a
markdown table and the suite's total.
"""
import re
import sys

LINE = re.compile(r"^\[\s*(\d+\.\d+)\]\s?(\s*)(.*)$")


def main():
    path = sys.argv[1]
    suite = sys.argv[2] if len(sys.argv) > 2 else "ext4_iomap_write"
    rows, start, last, base, parent = [], None, None, None, None
    total = None
    for raw in open(path, errors="replace"):
        m = LINE.match(raw.rstrip("\n"))
        if not m:
            continue
        t, indent, text = float(m.group(1)), len(m.group(2)), m.group(3)
        if text == f"# Subtest: {suite}":
            base, start, last = indent, t, t
            continue
        if base is None:
            continue
        res = re.match(r"(not ok|ok) \d+ (.*?)( # .*)?$", text)
        if res and indent < base:
            if res.group(2) == suite:
                total = t - start
            break
        sub = re.match(r"# Subtest: (.*)$", text)
        if sub and indent == base + 4:
            parent, last = sub.group(1), t
            continue
        if not res:
            continue
        name, status = res.group(2), res.group(1)
        if indent == base + 4 and parent:
            rows.append((f"{parent}: {name}", t - last, status))
        elif indent == base:
            if name == parent:
                parent = None
            else:
                rows.append((name, t - last, status))
        last = t
    if total is None:
        print(f"no complete run of {suite} with timestamps in {path}", file=sys.stderr)
        return 1
    print(f"| {suite} case | ms |")
    print("|---|---|")
    for name, secs, status in rows:
        print(f"| {name}{'' if status == 'ok' else ' (' + status + ')'} | {secs * 1000:.1f} |")
    print(f"\n{len(rows)} cases, {total:.2f} s for the suite")
    return 0


if __name__ == "__main__":
    sys.exit(main())
