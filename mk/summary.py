#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Count the results of a `make test` run and print the total.

Reads, from BUILD_DIR/results: kunit-ARCH.json (kunit.py --json, one per
architecture asked for; a missing file is one failure: the build or the
boot failed) and every *.tsv ("PASS|FAIL|SKIP<TAB>name<TAB>detail").
For each failed KUnit case the lines its log printed (from
kunit-ARCH.ktap, the first MAX_LOG of them) follow its name, so that the
summary says what broke, not only where.
The last line printed is "N passed, N failed".
"""
import json
import os
import re
import sys

MAX_LOG = 10
MAX_FAILED = 6
# The fixture's mount and unmount messages say nothing about a failure.
NOISE = re.compile(r"^EXT4-fs \([^)]*\): (mounted|unmounting) filesystem")
TIME = re.compile(r"^\[\s*[0-9.]+\] ")
RESULT = re.compile(r"^(not )?ok \d+ (.*?)(?: # .*)?$")


def failure_logs(ktap):
    """Map "suite.case.param" to the log lines of each failed case.

    A "# Subtest: NAME" line is indented as the results of what it
    contains; a result line closes everything nested deeper than it.
    """
    logs, names, buf = {}, {}, []
    try:
        lines = open(ktap, errors="replace").read().splitlines()
    except OSError:
        return logs
    for raw in lines:
        line = TIME.sub("", raw)
        body = line.lstrip()
        level = (len(line) - len(body)) // 4
        if body.startswith("# Subtest: "):
            names = {k: v for k, v in names.items() if k < level}
            names[level] = body[len("# Subtest: "):]
            buf = []
            continue
        m = RESULT.match(body)
        if m:
            if m.group(1):
                path = [names[k] for k in sorted(names) if k <= level]
                logs.setdefault(".".join(path + [m.group(2)]), buf[:MAX_LOG])
            names = {k: v for k, v in names.items() if k <= level}
            buf = []
            continue
        if NOISE.match(body):
            continue
        if body and not body.startswith(("KTAP version", "1..", "# ")):
            buf.append(body)
        elif body.startswith("# ") and ":" in body and "pass:" not in body:
            buf.append(body)
    return logs


def leaves(group, path):
    """Yield (name, status) for every test case under a KernelCI group."""
    name = path + [group.get("name", "")] if group.get("name") else path
    for case in group.get("test_cases", []):
        yield ".".join(name + [case["name"]]), case["status"]
    for sub in group.get("sub_groups", []):
        yield from leaves(sub, name)


def main():
    results, archs = sys.argv[1], sys.argv[2:]
    passed = failed = skipped = 0
    for arch in archs:
        path = os.path.join(results, f"kunit-{arch}.json")
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError) as err:
            print(f"kunit {arch}: FAIL (no results: {err})")
            failed += 1
            continue
        p = fl = s = 0
        logs = failure_logs(os.path.join(results, f"kunit-{arch}.ktap"))
        for name, status in leaves(data, []):
            if status == "PASS":
                p += 1
            elif status == "SKIP":
                s += 1
            else:
                fl += 1
                print(f"kunit {arch}: {status} {name}")
                key = name.split(".", 1)[1] if name.startswith("KUnit Test Group.") else name
                # The first failures of a run, in full; then names only.
                for line in logs.get(key, []) if fl <= MAX_FAILED else []:
                    print(f"    {line[:200]}")
        if p + fl + s == 0:
            print(f"kunit {arch}: FAIL (ran no test)")
            fl = 1
        print(f"kunit {arch}: {p} passed, {fl} failed, {s} skipped")
        passed, failed, skipped = passed + p, failed + fl, skipped + s
    for tsv in sorted(f for f in os.listdir(results) if f.endswith(".tsv")):
        for line in open(os.path.join(results, tsv)):
            status, name, detail = (line.rstrip("\n").split("\t") + ["", ""])[:3]
            if status == "PASS":
                passed += 1
            elif status == "SKIP":
                skipped += 1
            else:
                failed += 1
                print(f"{tsv[:-4]}: FAIL {name}{': ' + detail if detail else ''}")
    if skipped:
        print(f"({skipped} skipped)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
