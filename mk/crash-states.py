#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The KUnit crash states of one run, as a result line for make test.

Usage: crash-states.py KTAP NAME [MIN_STATES [MAX_SECONDS]]

Reads a KTAP console log with printk timestamps, takes the total that
the ext4_iomap_crash suite prints ("ext4_iomap_crash: N crash states
checked in all") and the suite's run time (from its "# Subtest" line to
its result line), and prints one line "PASS|FAIL<TAB>NAME<TAB>detail"
(mk/summary.py's format): FAIL if the suite did not finish, checked fewer
than MIN_STATES (default 1000) states, or ran longer than MAX_SECONDS
(default: no bound), or, where the suite counts them, checked no state of
a file system with fast commits or saw no fast commit.
"""
import re
import sys

LINE = re.compile(r"^\[\s*(\d+\.\d+)\]\s?(\s*)(.*)$")


def main():
    path, name = sys.argv[1], sys.argv[2]
    need = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    bound = float(sys.argv[4]) if len(sys.argv) > 4 else None
    start = end = states = None
    fc_states = fc_commits = None
    result = None
    try:
        lines = open(path, errors="replace").read().splitlines()
    except OSError as e:
        print(f"FAIL\t{name}\tno console log: {e}")
        return 0
    for raw in lines:
        m = LINE.match(raw)
        if not m:
            continue
        t, text = float(m.group(1)), m.group(3)
        if text == "# Subtest: ext4_iomap_crash":
            start = t
        r = re.match(r"(not ok|ok) \d+ ext4_iomap_crash\b", text)
        if r and start is not None:
            end, result = t, r.group(1)
        s = re.match(r"ext4_iomap_crash: (\d+) crash states checked in all", text)
        if s:
            states = int(s.group(1))
        f = re.search(r"in all, (\d+) of them with fast commits \((\d+) fast commits\)", text)
        if f:
            fc_states, fc_commits = int(f.group(1)), int(f.group(2))
    if start is None or end is None or states is None:
        print(f"FAIL\t{name}\tthe ext4_iomap_crash suite did not run to its end in {path}")
        return 0
    secs = end - start
    detail = f"{states} crash states checked in {secs:.2f} s"
    bad = []
    if fc_states is not None:
        # The fast commit rows must have run, and fsync must have taken
        # the fast commit path at least once.
        detail += f", {fc_states} with fast commits ({fc_commits} fast commits)"
        if not fc_states or not fc_commits:
            bad.append("no fast commit states")
    if result != "ok":
        bad.append("the suite failed")
    if states < need:
        bad.append(f"fewer than {need}")
    if bound is not None and secs > bound:
        bad.append(f"longer than {bound:g} s")
    if bad:
        print(f"FAIL\t{name}\t{detail}: {', '.join(bad)}")
    else:
        limits = f">= {need}" + (f", <= {bound:g} s" if bound is not None else "")
        print(f"PASS\t{name}\t{detail} ({limits})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
