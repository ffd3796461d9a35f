#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the console of a mk/bench-native.sh boot (and the perf reports of
its profile boots) into bench.json, bench.md and bench.dat (chart data).

Usage: report.py OUTDIR KEY=VALUE...   (facts about the run)

Each "ext4_iomap_bench: chunk= pattern= sync= path= rep= bytes= calls= ns="
line is one run: MiB/s is bytes / ns (the timed part: the write calls and,
for fsync runs, the fsync at the end of each pass), ns per call is ns /
calls.  Per case and path: median, min and max MiB/s, median ns per call;
per case the iomap/buffer_head and nodelalloc/delalloc ratios of the
medians, and iomap/buffer_head of the best runs (max MiB/s), which a busy
host disturbs less.

profile-CASE.txt is "perf report --children --sort symbol -g none" of one
profile boot: the share of samples under each function, callees included.
The time of a write call (ext4_file_write_iter) is split into:
  mapping     iomap: ->iomap_begin and ->iomap_end;
              buffer_head: the get_block of ->write_begin
  folio       looking up or creating the folio (__filemap_get_folio)
  block state iomap: iomap_write_begin and iomap_write_end less the folio
              lookup and the zeroing (per-block state, uptodate and dirty
              bits, dirtying the folio); buffer_head: ->write_begin and
              ->write_end less the folio lookup, the mapping and the
              zeroing (buffer_heads, their state bits, dirtying)
  zeroing     memset: the parts of a new block outside the write
  copy        copy_folio_from_iter_atomic (memcpy)
  other       the rest of the call (locks, checks, timestamps, i_size,
              iomap_iter, balance_dirty_pages_ratelimited)
and scaled to ns with the profile boot's own ns per call.
"""
import json
import os
import re
import statistics
import sys

PATHS = ["bh", "iomap", "iomap-nd"]
NAMES = {"bh": "buffer_head", "iomap": "iomap", "iomap-nd": "iomap nodelalloc"}
PATTERNS = ["seq-append", "seq-overwrite", "rand-overwrite"]
LINE = re.compile(r"ext4_iomap_bench: chunk=(\d+) pattern=(\S+) sync=(\S+) "
                  r"path=(\S+) rep=(\d+) bytes=(\d+) calls=(\d+) ns=(\d+)")
PLINE = re.compile(r"ext4_iomap_bench_profile: chunk=(\d+) pattern=(\S+) "
                   r"path=(\S+) calls=(\d+) ns=(\d+)")

# Functions whose inclusive share makes up each part of a write call.  Each
# part lists alternatives, the first one found in the profile counts (the
# compiler inlines some of these functions into others); an alternative is
# a list of functions whose shares add up.
TOTAL = [["ext4_file_write_iter"]]
COPY = [["copy_folio_from_iter_atomic", "memcpy_orig"], ["copy_folio_from_iter_atomic", "memcpy"]]
ZERO = [["memset_orig"], ["memset"]]
FOLIO = [["__filemap_get_folio_mpol"], ["__filemap_get_folio"]]
SPLIT = {
    "iomap": {
        "mapping": [["ext4_iomap_buffered_da_write_next"],
                    ["ext4_iomap_buffered_write_next"],
                    ["ext4_iomap_buffered_do_write_begin",
                     "ext4_iomap_buffered_da_write_end"]],
        "_outer": [["iomap_write_begin", "iomap_write_end"]],
    },
    "bh": {
        "mapping": [["ext4_da_get_block_prep"], ["ext4_da_map_blocks"]],
        "_outer": [["ext4_da_write_begin", "ext4_da_write_end"],
                   ["ext4_write_begin", "ext4_write_end"]],
    },
}


def pick(share, alternatives):
    for alt in alternatives:
        if any(f in share for f in alt):
            return sum(share.get(f, 0) for f in alt)
    return 0.0


def chunk_name(c):
    return f"{c // 1048576}m" if c >= 1048576 else f"{c // 1024}k"


def case_name(pattern, sync, chunk):
    return pattern + ("-fsync" if sync == "fsync" else "") + "-" + chunk_name(chunk)


def read_profile(path):
    """Inclusive ("children") percentage per symbol."""
    share = {}
    for line in open(path, errors="replace"):
        m = re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+\[[.k]\]\s+(\S+)", line)
        if m:
            share[m.group(3)] = share.get(m.group(3), 0) + float(m.group(1))
    return share


def split_profile(path, share):
    s = SPLIT["bh" if path == "bh" else "iomap"]
    total = pick(share, TOTAL)
    if not total:
        return None
    mapping, outer = pick(share, s["mapping"]), pick(share, s["_outer"])
    folio, zero, copy = pick(share, FOLIO), pick(share, ZERO), pick(share, COPY)
    if path == "bh":
        # ->write_begin holds the folio lookup, the get_block calls and the
        # zeroing of new blocks; the copy sits between ->write_begin and
        # ->write_end.
        block = outer - folio - mapping - zero
    else:
        # iomap_write_begin holds the folio lookup and the zeroing; the
        # mapping is done from iomap_iter().
        block = outer - folio - zero
    res = {"mapping": mapping, "folio": folio, "block state": max(block, 0.0),
           "zeroing": zero, "copy": copy}
    res["other"] = max(total - sum(res.values()), 0.0)
    return {k: 100 * v / total for k, v in res.items()}


def main():
    outdir = sys.argv[1]
    facts = dict(a.split("=", 1) for a in sys.argv[2:])
    console = os.path.join(outdir, "console.log")
    runs = {}
    fails = []
    for line in open(console, errors="replace"):
        m = LINE.search(line)
        if m:
            chunk, pattern, sync, path, rep, nbytes, calls, ns = m.groups()
            case = case_name(pattern, sync, int(chunk))
            ns = int(ns)
            runs.setdefault((case, path), []).append({
                "rep": int(rep), "bytes": int(nbytes), "calls": int(calls),
                "ns": ns, "MiBps": int(nbytes) / 1048576 / (ns / 1e9),
                "ns_per_call": ns / int(calls)})
        elif re.match(r"\s*not ok \d+ ", line):
            fails.append(line.strip())
    order = {p: i for i, p in enumerate(PATTERNS)}

    def key(case):
        chunk = case.rsplit("-", 1)[1]
        size = int(chunk[:-1]) * (1048576 if chunk[-1] == "m" else 1024)
        pat = case.rsplit("-", 1)[0].replace("-fsync", "")
        return (size, "-fsync" in case, order.get(pat, 9))

    cases = sorted({c for c, _ in runs}, key=key)
    result = {"facts": facts, "failures": fails, "cases": []}
    for case in cases:
        entry = {"case": case, "paths": {}}
        for p in PATHS:
            r = runs.get((case, p), [])
            if not r:
                continue
            bw = [x["MiBps"] for x in r]
            entry["paths"][p] = {
                "runs": len(r), "median_MiBps": statistics.median(bw),
                "min_MiBps": min(bw), "max_MiBps": max(bw),
                "ns_per_call": statistics.median(x["ns_per_call"] for x in r),
                "min_ms": min(x["ns"] for x in r) / 1e6, "raw": r}
        ps = entry["paths"]
        if "bh" in ps and "iomap" in ps:
            entry["iomap_vs_bh"] = ps["iomap"]["median_MiBps"] / ps["bh"]["median_MiBps"]
        if "bh" in ps and "iomap" in ps:
            entry["best_iomap_vs_bh"] = ps["iomap"]["max_MiBps"] / ps["bh"]["max_MiBps"]
        if "iomap" in ps and "iomap-nd" in ps:
            entry["nodelalloc_vs_delalloc"] = (ps["iomap-nd"]["median_MiBps"] /
                                               ps["iomap"]["median_MiBps"])
        result["cases"].append(entry)

    profiles = {}
    for c in ["bh_1k", "iomap_1k", "bh_4k", "iomap_4k",
              "bh_ow_1k", "iomap_ow_1k", "bh_ow_4k", "iomap_ow_4k"]:
        txt = os.path.join(outdir, f"profile-{c}.txt")
        log = os.path.join(outdir, f"profile-{c}.log")
        if not os.path.exists(txt) or not os.path.exists(log):
            continue
        m = None
        for line in open(log, errors="replace"):
            m = PLINE.search(line) or m
        share = read_profile(txt)
        path = c.split("_")[0]
        sp = split_profile(path, share)
        if not m or not sp:
            continue
        ns_call = int(m.group(5)) / int(m.group(4))
        profiles[c] = {"path": path, "chunk": int(m.group(1)),
                       "pattern": m.group(2),
                       "ns_per_call": ns_call, "percent": sp,
                       "ns": {k: v * ns_call / 100 for k, v in sp.items()},
                       "top": sorted(share.items(), key=lambda kv: -kv[1])[:40]}
    result["profile"] = profiles
    with open(os.path.join(outdir, "bench.json"), "w") as f:
        json.dump(result, f, indent=1)

    md = []
    md.append("Buffered writes at native speed: kernel_write() of one chunk per "
              "call into ext4 with 4 KiB blocks on the in-memory disk of the "
              "KUnit fixture, under UML; a fresh file system per run, the paths "
              "alternated within each repetition; median MiB/s (min-max) and ns "
              "per write call.")
    md.append("")
    md.append("Machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    md.append("")
    md.append("| case |" + "".join(f" {NAMES[p]} MiB/s |" for p in PATHS) +
              " iomap/bh | best iomap/bh | nd/da |" +
              "".join(f" {NAMES[p]} ns/call |" for p in PATHS))
    md.append("|" + "---|" * (4 + 2 * len(PATHS)))
    for e in result["cases"]:
        row = f"| {e['case']} |"
        for p in PATHS:
            x = e["paths"].get(p)
            row += (f" {x['median_MiBps']:.0f} ({x['min_MiBps']:.0f}-{x['max_MiBps']:.0f}) |"
                    if x else " - |")
        for k in ("iomap_vs_bh", "best_iomap_vs_bh", "nodelalloc_vs_delalloc"):
            row += f" {e[k]:.2f} |" if k in e else " - |"
        for p in PATHS:
            x = e["paths"].get(p)
            row += f" {x['ns_per_call']:.0f} |" if x else " - |"
        md.append(row)
    short = [(e["case"], p, x["min_ms"]) for e in result["cases"]
             for p, x in e["paths"].items() if x["min_ms"] < 100]
    md.append("")
    if short:
        md.append("Runs shorter than 100 ms (raise BENCH_SCALE): " +
                  ", ".join(f"{c} {p} {t:.0f} ms" for c, p, t in short[:8]))
    else:
        md.append("Every run took at least 100 ms.")
    if profiles:
        md.append("")
        md.append("Where the time of one write call goes (cached sequential "
                  "append and overwrite; perf samples of a separate boot, callees included, "
                  "scaled to that boot's ns per call):")
        md.append("")
        parts = ["mapping", "folio", "block state", "zeroing", "copy", "other"]
        md.append("| path, pattern, chunk | ns/call |" + "".join(f" {p} |" for p in parts))
        md.append("|" + "---|" * (2 + len(parts)))
        for c, pr in profiles.items():
            md.append(f"| {NAMES[pr['path']]} {pr['pattern']} {chunk_name(pr['chunk'])} | "
                      f"{pr['ns_per_call']:.0f} |" +
                      "".join(f" {pr['ns'][p]:.0f} ({pr['percent'][p]:.0f}%) |"
                              for p in parts))
    if fails:
        md.append("")
        md.append(f"{len(fails)} case(s) failed: " + "; ".join(fails[:5]))
    with open(os.path.join(outdir, "bench.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(outdir, "bench.dat"), "w") as f:
        f.write("case " + " ".join(NAMES[p].replace(" ", "_") for p in PATHS) + "\n")
        for e in result["cases"]:
            f.write(e["case"] + " " + " ".join(
                f"{e['paths'][p]['median_MiBps']:.1f}" if p in e["paths"] else "0"
                for p in PATHS) + "\n")
    print("\n".join(md))
    return 0 if result["cases"] and not fails else 1


if __name__ == "__main__":
    sys.exit(main())
