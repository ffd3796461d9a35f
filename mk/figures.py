#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the README's table of figures from the results of a `make test` run.

Usage: figures.py RESULTS_DIR README.md   (`make figures`)

Replaces what lies between the "figures:begin" and "figures:end" marker
lines of README.md with a table made only from RESULTS_DIR: run.txt (the
commit and the date, written by mk/test.sh), times.txt (the wall time of
each step), summary.txt (the counts make test printed; kunit-ARCH.json
where it has none), every *.tsv, crash.tsv and crash-kunit.tsv
(the crash states counted) and nearfull.log (what the near-full writers
did).  A step without results reads "not run".  Nothing in the table is
typed by hand.
"""
import json
import os
import re
import sys

BEGIN = "<!-- figures:begin"
END = "<!-- figures:end -->"

# (label, results file, times.txt step)
STEPS = [
    ("KUnit, UML", "kunit-um.json", "kunit-um"),
    ("KUnit, UML booted 20 times", "repeat.tsv", "kunit-repeat"),
    ("KUnit, x86_64 debug (KASAN, lockdep, DEBUG_VM, UBSAN)",
     "kunit-x86_64-debug.json", "kunit-x86_64-debug"),
    ("KUnit, arm64 with 64 KiB pages", "kunit-arm64-64k.json",
     "kunit-arm64-64k"),
    ("e2e (QEMU x86_64)", "e2e.tsv", "e2e"),
    ("e2e, debug kernel", "e2e-debug.tsv", "e2e-debug"),
    ("crash check", "crash.tsv", "crash"),
    ("stress", "stress.tsv", "stress"),
    ("near-full stress", "nearfull.tsv", "nearfull"),
    ("static checks", "checks.tsv", "checks"),
    ("the series", "series.tsv", "series"),
    ("randconfigs", "randconfig.tsv", "randconfig"),
    ("tooling self-test", "selftest.tsv", "selftest"),
]


def kunit_counts(path):
    def walk(group, n):
        for case in group.get("test_cases", []):
            n[case["status"]] = n.get(case["status"], 0) + 1
        for sub in group.get("sub_groups", []):
            walk(sub, n)
        return n
    return walk(json.load(open(path)), {})


def tsv_counts(path):
    n = {}
    for line in open(path, errors="replace"):
        kind = line.split("\t", 1)[0]
        if kind in ("PASS", "FAIL", "SKIP"):
            n[kind] = n.get(kind, 0) + 1
    return n


def tsv_detail(path, name):
    try:
        for line in open(path, errors="replace"):
            f = line.rstrip("\n").split("\t")
            if len(f) >= 3 and f[1] == name:
                return f[2]
    except OSError:
        pass
    return ""


def counts_text(n):
    text = "%d passed, %d failed" % (n.get("PASS", 0), n.get("FAIL", 0))
    if n.get("SKIP"):
        text += ", %d skipped" % n["SKIP"]
    return text


def nearfull_text(path):
    runs = writes = enospc = edquot = syncerr = grow = 0
    try:
        log = open(path, errors="replace").read().splitlines()
    except OSError:
        return ""
    for line in log:
        m = re.search(r"# nearfull: \S+: .*?(\d+) writes \(\d+ short, (\d+) "
                      r"ENOSPC, (\d+) EDQUOT.*?; (\d+) sync errors", line)
        if m:
            runs += 1
            writes += int(m.group(1))
            enospc += int(m.group(2))
            edquot += int(m.group(3))
            syncerr += int(m.group(4))
        if re.match(r"# quota-grow: .*, 0 failed$", line):
            grow += 1
    return ("%d runs: %d writes, %d ENOSPC, %d EDQUOT, %d failed syncs; "
            "%d quota-grow rounds clean" % (runs, writes, enospc, edquot,
                                             syncerr, grow))


def main():
    results, readme = sys.argv[1], sys.argv[2]
    times = {}
    try:
        for line in open(os.path.join(results, "times.txt")):
            f = line.split()
            if len(f) >= 2:
                times[f[0]] = f[1].rstrip("s")
    except OSError:
        pass
    run = {}
    try:
        for line in open(os.path.join(results, "run.txt")):
            k, _, v = line.rstrip("\n").partition("=")
            run[k] = v
    except OSError:
        pass

    # What make test printed: per architecture and the total.
    printed = {}
    try:
        for line in open(os.path.join(results, "summary.txt")):
            m = re.match(r"kunit (\S+): (\d+) passed, (\d+) failed, (\d+) skipped",
                         line)
            if m:
                printed["kunit-%s.json" % m.group(1)] = {
                    "PASS": int(m.group(2)), "FAIL": int(m.group(3)),
                    "SKIP": int(m.group(4))}
            m = re.match(r"(\d+) passed, (\d+) failed$", line)
            if m:
                printed["total"] = {"PASS": int(m.group(1)),
                                    "FAIL": int(m.group(2))}
    except OSError:
        pass

    rows = []
    total = {}
    for label, name, step in STEPS:
        path = os.path.join(results, name)
        if not os.path.exists(path):
            rows.append((label, "not run", ""))
            continue
        if name in printed:
            n = printed[name]
        elif name.endswith(".json"):
            n = kunit_counts(path)
        else:
            n = tsv_counts(path)
        for k, v in n.items():
            total[k] = total.get(k, 0) + v
        text = counts_text(n)
        if name == "crash.tsv":
            extra = [tsv_detail(os.path.join(results, "crash-kunit.tsv"),
                                "kunit crash states (um)"),
                     tsv_detail(path, "crash-lw-replayed-states")]
            extra = [e for e in extra if e]
            if extra:
                text += "; " + "; ".join(extra)
        elif name == "nearfull.tsv":
            extra = nearfull_text(os.path.join(results, "nearfull.log"))
            if extra:
                text += "; " + extra
        elif name == "repeat.tsv":
            extra = tsv_detail(path, "20 back-to-back UML runs give "
                               "identical results")
            if extra:
                text += "; " + extra
        rows.append((label, text, times.get(step, "")))

    out = [BEGIN + ": written by `make figures` from build/results; "
           "do not edit -->",
           "Last `make test`: commit %s, %s, %s; %s in all, %s s of wall "
           "time." % (run.get("commit", "?"), run.get("date", "?"),
                      run.get("machine", "?"),
                      counts_text(printed.get("total", total)),
                      run.get("wall", "?")),
           "",
           "| step | result | seconds |",
           "|---|---|---|"]
    for label, text, secs in rows:
        out.append("| %s | %s | %s |" % (label, text, secs))
    out.append(END)

    lines = open(readme).read().splitlines()
    try:
        a = next(i for i, l in enumerate(lines) if l.startswith(BEGIN))
        b = next(i for i, l in enumerate(lines) if l.startswith(END))
    except StopIteration:
        sys.exit("figures.py: %s has no figures markers" % readme)
    lines[a:b + 1] = out
    open(readme, "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
