#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the console of a mk/bench.sh guest into bench.json, bench.md and
the data for the chart.

Usage: report.py CONSOLE OUTDIR KEY=VALUE...   (facts about the run:
machine, qemu, accel, kernel, ...; they go into the JSON and the table)

Each "BENCH <rep> <path> <case> <fio --minimal>" line is one run: MiB/s
is write_kb / runtime (fio's runtime includes the final fsync of the
"-fsync" cases), CPU seconds per GiB is (usr% + sys%) * runtime / GiB
written.  Per case and path: median, min and max MiB/s, median CPU s/GiB
(and its usr and sys parts); per case the iomap/buffer_head ratio of the
medians.
"""
import json
import os
import statistics
import sys

PATHS = ["bh", "iomap", "iomap-nd", "bh-nd"]
NAMES = {"bh": "buffer_head", "iomap": "iomap", "iomap-nd": "iomap nodelalloc",
         "bh-nd": "buffer_head nodelalloc"}


def bs_bytes(case):
    bs = case.rsplit("-", 1)[1]
    mult = {"k": 1024, "m": 1024 * 1024}[bs[-1].lower()]
    return int(bs[:-1]) * mult


def main():
    console, outdir = sys.argv[1], sys.argv[2]
    facts = dict(a.split("=", 1) for a in sys.argv[3:])
    runs = {}
    errors = []
    ended = False
    for line in open(console, errors="replace"):
        line = line.strip()
        if line == "BENCH-END":
            ended = True
        if not line.startswith("BENCH "):
            continue
        _, rep, path, case, minimal = line.split(" ", 4)
        f = minimal.split(";")
        try:
            if len(f) < 90 or f[4] != "0":
                raise ValueError(minimal[:200])
            kb, ms = int(f[46]), int(f[49])
            usr, sys_ = float(f[87].rstrip("%")), float(f[88].rstrip("%"))
            if not kb or not ms:
                raise ValueError("no data written")
        except (ValueError, IndexError) as err:
            errors.append(f"rep {rep} {path} {case}: {err}")
            continue
        gib = kb / 1024 / 1024
        secs = ms / 1000
        runs.setdefault((case, path), []).append({
            "rep": int(rep), "MiBps": kb / 1024 / secs,
            "cpu_s_per_GiB": (usr + sys_) / 100 * secs / gib,
            "usr_s_per_GiB": usr / 100 * secs / gib,
            "sys_s_per_GiB": sys_ / 100 * secs / gib})
    cases = sorted({c for c, _ in runs}, key=lambda c: (bs_bytes(c), c))
    paths = [p for p in PATHS if any(p == q for _, q in runs)]
    result = {"facts": facts, "complete": ended, "errors": errors,
              "cases": []}
    for case in cases:
        entry = {"case": case, "paths": {}}
        for p in paths:
            r = runs.get((case, p), [])
            if not r:
                continue
            bw = [x["MiBps"] for x in r]
            entry["paths"][p] = {
                "runs": len(r), "median_MiBps": statistics.median(bw),
                "min_MiBps": min(bw), "max_MiBps": max(bw),
                "cpu_s_per_GiB": statistics.median(x["cpu_s_per_GiB"] for x in r),
                "usr_s_per_GiB": statistics.median(x["usr_s_per_GiB"] for x in r),
                "sys_s_per_GiB": statistics.median(x["sys_s_per_GiB"] for x in r),
                "raw": r}
        ps = entry["paths"]
        if "bh" in ps and "iomap" in ps:
            entry["iomap_vs_bh"] = ps["iomap"]["median_MiBps"] / ps["bh"]["median_MiBps"]
        result["cases"].append(entry)
    with open(os.path.join(outdir, "bench.json"), "w") as f:
        json.dump(result, f, indent=1)

    # Markdown table.
    md = []
    md.append("Buffered writes, ext4 4k blocks on a RAM disk, fio psync, "
              f"{facts.get('size', '?')} per run, fresh file system per run, "
              f"{facts.get('reps', '?')} repetitions alternating the paths; "
              "median MiB/s (min-max), CPU seconds per GiB written (usr+sys).")
    md.append("")
    md.append("Machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    md.append("")
    head = "| case |" + "".join(f" {NAMES[p]} MiB/s |" for p in paths)
    head += " iomap/bh |" + "".join(f" {NAMES[p]} CPU s/GiB |" for p in paths)
    md.append(head)
    md.append("|" + "---|" * (2 + 2 * len(paths)))
    slower = []
    for e in result["cases"]:
        row = f"| {e['case']} |"
        for p in paths:
            x = e["paths"].get(p)
            row += (f" {x['median_MiBps']:.0f} ({x['min_MiBps']:.0f}-{x['max_MiBps']:.0f}) |"
                    if x else " - |")
        ratio = e.get("iomap_vs_bh")
        row += f" {ratio:.2f} |" if ratio else " - |"
        for p in paths:
            x = e["paths"].get(p)
            row += f" {x['cpu_s_per_GiB']:.2f} |" if x else " - |"
        md.append(row)
        if ratio and ratio < 0.95:
            slower.append(e)
    md.append("")
    if slower:
        md.append("Slower on iomap (ratio below 0.95), with the measured CPU cost:")
        md.append("")
        for e in slower:
            b, i = e["paths"]["bh"], e["paths"]["iomap"]
            md.append(
                f"- {e['case']}: {e['iomap_vs_bh']:.2f}x; CPU per GiB "
                f"{i['cpu_s_per_GiB']:.2f} s vs {b['cpu_s_per_GiB']:.2f} s "
                f"(sys {i['sys_s_per_GiB']:.2f} vs {b['sys_s_per_GiB']:.2f}, "
                f"usr {i['usr_s_per_GiB']:.2f} vs {b['usr_s_per_GiB']:.2f})")
    else:
        md.append("No case is slower on iomap than on buffer_head by more than 5%.")
    if errors:
        md.append("")
        md.append(f"{len(errors)} run(s) failed: " + "; ".join(errors[:5]))
    if not ended:
        md.append("")
        md.append("The guest did not finish (no BENCH-END): results are partial.")
    with open(os.path.join(outdir, "bench.md"), "w") as f:
        f.write("\n".join(md) + "\n")

    # Chart data for gnuplot: case, then the median of each path.
    with open(os.path.join(outdir, "bench.dat"), "w") as f:
        f.write("case " + " ".join(NAMES[p].replace(" ", "_") for p in paths) + "\n")
        for e in result["cases"]:
            f.write(e["case"] + " " + " ".join(
                f"{e['paths'][p]['median_MiBps']:.1f}" if p in e["paths"] else "0"
                for p in paths) + "\n")
    print("\n".join(md))
    return 0 if ended and not errors and result["cases"] else 1


if __name__ == "__main__":
    sys.exit(main())
