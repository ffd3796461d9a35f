#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the console of a mk/bench-native.sh boot (and the perf reports of
its profile boots) into bench.json, bench.md and bench.dat (chart data).

Usage: report.py OUTDIR KEY=VALUE...   (facts about the run)

Each "ext4_iomap_bench: chunk= pattern= sync= path= rep= bytes= calls= ns=
handles=" line is one run: MiB/s is bytes / ns (the timed part: the calls
and, for fsync runs, the fsync at the end of each pass), ns per call is
ns / calls, handles per MiB the journal handles started in the timed part
over the MiB moved.  Per case and path: median, min and max MiB/s, median
ns per call and handles per MiB; per case the ratios of the medians
(iomap/buffer_head, nodelalloc iomap over both nodelalloc buffer_head
paths, nodelalloc over delalloc iomap), iomap/buffer_head of the best runs
(max MiB/s), which a busy host disturbs less, and each path's share of the
copy-only ceiling.  Then the goals of issue 25, met or not, case by case.

profile-CASE.txt is "perf report --children --sort symbol -g none" of one
profile boot: the share of samples under each function, callees included.
The time of a write call (ext4_file_write_iter) is split into:
  mapping     iomap: ->iomap_begin and ->iomap_end;
              buffer_head: the get_block of ->write_begin
  journal     starting and stopping journal handles (inside the mapping
              for iomap, inside ->write_begin/->write_end for buffer_head)
  folio       looking up or creating the folio (__filemap_get_folio)
  block state iomap: iomap_write_begin and iomap_write_end less the folio
              lookup and the zeroing (per-block state, uptodate and dirty
              bits, dirtying the folio); buffer_head: ->write_begin and
              ->write_end less the folio lookup, the mapping, the journal
              and the zeroing (buffer_heads, their state bits, dirtying)
  zeroing     memset: the parts of a new block outside the write
  copy        copy_folio_from_iter_atomic (memcpy)
  writeback   RWF_DONTCACHE only: the writeback the write starts
  other       the rest of the call (locks, checks, timestamps, i_size,
              iomap_iter, balance_dirty_pages_ratelimited)
The time of a read call (ext4_file_read_iter) into:
  mapping     iomap: ext4_iomap_buffered_read_begin; buffer_head:
              ext4_map_blocks (both under readahead)
  readahead   the rest of readahead: folios allocated and inserted, bios
              built, submitted and completed
  copy        copy_folio_to_iter (memcpy)
  other       the rest (filemap_read's lookups, locks, checks, atime)
and scaled to ns with the profile boot's own ns per call.
"""
import json
import os
import re
import statistics
import sys

PATHS = ["bh", "bh-nd", "bh-nd-lock", "iomap", "iomap-nd", "copy"]
NAMES = {"bh": "buffer_head", "bh-nd": "bh nodelalloc",
         "bh-nd-lock": "bh nodelalloc,dioread_lock", "iomap": "iomap",
         "iomap-nd": "iomap nodelalloc", "copy": "copy only"}
PATTERNS = ["seq-append", "seq-overwrite", "rand-overwrite",
            "read-hole", "read-cached", "read-uncached"]
LINE = re.compile(r"ext4_iomap_bench: chunk=(\d+) pattern=(\S+) sync=(\S+) "
                  r"path=(\S+) rep=(\d+) bytes=(\d+) calls=(\d+) ns=(\d+)"
                  r"(?: handles=(\d+))?(?: written=(\d+))?")
PLINE = re.compile(r"ext4_iomap_bench_profile: chunk=(\d+) pattern=(\S+) "
                   r"(?:sync=(\S+) )?path=(\S+) calls=(\d+) ns=(\d+)")
PROFILES = ["bh_1k", "iomap_1k", "bh_4k", "iomap_4k", "bh_ow_1k",
            "iomap_ow_1k", "bh_ow_4k", "iomap_ow_4k", "bh_64k", "iomap_64k", "bh_nd_4k", "bh_ndl_4k",
            "iomap_nd_4k", "bh_dc_4k", "iomap_dc_4k", "bh_rd_4k",
            "iomap_rd_4k"]

# Functions whose inclusive share makes up each part of a call.  Each part
# lists alternatives, the first one found in the profile counts (the
# compiler inlines some of these functions into others); an alternative is
# a list of functions whose shares add up.
TOTAL = [["ext4_file_write_iter"]]
RTOTAL = [["ext4_file_read_iter"]]
COPY = [["copy_folio_from_iter_atomic", "memcpy_orig"], ["copy_folio_from_iter_atomic", "memcpy"]]
RCOPY = [["copy_folio_to_iter"], ["copy_page_to_iter"], ["_copy_to_iter"]]
ZERO = [["memset_orig"], ["memset"]]
FOLIO = [["__filemap_get_folio_mpol"], ["__filemap_get_folio"]]
JOURNAL = [["__ext4_journal_start_sb", "__ext4_journal_stop"],
           ["jbd2__journal_start", "jbd2_journal_stop"]]
WRITEBACK = [["filemap_dontcache_kick_writeback"]]
READAHEAD = [["page_cache_ra_order", "page_cache_sync_ra", "page_cache_async_ra"],
             ["page_cache_ra_unbounded"]]
SPLIT = {
    "iomap": {
        "mapping": [["ext4_iomap_buffered_da_write_next"],
                    ["ext4_iomap_buffered_write_next"],
                    ["ext4_iomap_buffered_do_write_begin",
                     "ext4_iomap_buffered_da_write_end"]],
        "_outer": [["iomap_write_begin", "iomap_write_end"]],
        "read": [["ext4_iomap_buffered_read_next"],
                 ["ext4_iomap_buffered_read_begin"]],
    },
    "bh": {
        "mapping": [["ext4_da_get_block_prep"], ["ext4_da_map_blocks"],
                    ["ext4_get_block_unwritten"], ["ext4_get_block"]],
        "_outer": [["ext4_da_write_begin", "ext4_da_write_end"],
                   ["ext4_write_begin", "ext4_write_end"]],
        "read": [["ext4_map_blocks"]],
    },
}
WPARTS = ["mapping", "journal", "folio", "block state", "zeroing", "copy",
          "writeback", "other"]
RPARTS = ["mapping", "readahead", "copy", "other"]


def pick(share, alternatives):
    for alt in alternatives:
        if any(f in share for f in alt):
            return sum(share.get(f, 0) for f in alt)
    return 0.0


def pick_max(share, alternatives):
    """The largest of the alternatives: for functions of which a profile may
    hold a stray sample of the other path's."""
    return max(sum(share.get(f, 0) for f in alt) for alt in alternatives)


def chunk_name(c):
    return f"{c // 1048576}m" if c >= 1048576 else f"{c // 1024}k"


def case_name(pattern, sync, chunk):
    return pattern + ("" if sync == "cached" else "-" + sync) + "-" + chunk_name(chunk)


def read_profile(path):
    """Inclusive ("children") percentage per symbol."""
    share = {}
    for line in open(path, errors="replace"):
        m = re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+\[[.k]\]\s+(\S+)", line)
        if m:
            share[m.group(3)] = share.get(m.group(3), 0) + float(m.group(1))
    return share


def split_read(s, share):
    total = pick(share, RTOTAL)
    if not total:
        return None
    mapping = pick(share, s["read"])
    ra = max(pick(share, READAHEAD) - mapping, 0.0)
    res = {"mapping": mapping, "readahead": ra, "copy": pick(share, RCOPY)}
    res["other"] = max(total - sum(res.values()), 0.0)
    return {k: 100 * v / total for k, v in res.items()}


def split_profile(path, share, reads):
    s = SPLIT["iomap" if path.startswith("iomap") else "bh"]
    if reads:
        return split_read(s, share)
    total = pick(share, TOTAL)
    if not total:
        return None
    mapping, outer = pick(share, s["mapping"]), pick_max(share, s["_outer"])
    folio, zero, copy = pick(share, FOLIO), pick(share, ZERO), pick(share, COPY)
    journal, wb = pick(share, JOURNAL), pick(share, WRITEBACK)
    if path.startswith("bh"):
        # ->write_begin holds the folio lookup, the journal start, the
        # get_block calls and the zeroing of new blocks; the copy sits
        # between ->write_begin and ->write_end, which stops the handle.
        block = outer - folio - mapping - zero - journal
    else:
        # iomap_write_begin holds the folio lookup and the zeroing; the
        # mapping, with its journal handle, is done from iomap_iter().
        block = outer - folio - zero
        mapping = max(mapping - journal, 0.0)
    res = {"mapping": mapping, "journal": journal, "folio": folio,
           "block state": max(block, 0.0), "zeroing": zero, "copy": copy,
           "writeback": wb}
    res["other"] = max(total - sum(res.values()), 0.0)
    return {k: 100 * v / total for k, v in res.items()}


def ratio(ps, a, b, key="median_MiBps"):
    if a in ps and b in ps and ps[b][key]:
        return ps[a][key] / ps[b][key]
    return None


def goals(cases):
    """The goals of issue 25: (name, list of (case, ratio) that miss)."""
    res = []

    def check(name, want, pick_cases, a, b):
        miss, seen = [], 0
        for e in cases:
            if not pick_cases(e["case"]):
                continue
            r = ratio(e["paths"], a, b)
            if r is None:
                continue
            seen += 1
            if r < want:
                miss.append((e["case"], r))
        res.append((name, seen, miss))

    writes = lambda c: not c.startswith("read-")
    check("iomap >= 1.0x buffer_head, every write case", 1.0, writes, "iomap", "bh")
    check("iomap >= 1.5x buffer_head, 64k and 1M cached appends", 1.5,
          lambda c: c in ("seq-append-64k", "seq-append-1m"), "iomap", "bh")
    check("nodelalloc iomap >= 1.0x buffer_head nodelalloc (dioread_nolock)", 1.0,
          writes, "iomap-nd", "bh-nd")
    check("nodelalloc iomap >= 1.0x buffer_head nodelalloc,dioread_lock", 1.0,
          writes, "iomap-nd", "bh-nd-lock")
    check("reads: iomap >= 1.0x buffer_head", 1.0,
          lambda c: c.startswith("read-"), "iomap", "bh")
    return res


def main():
    outdir = sys.argv[1]
    facts = dict(a.split("=", 1) for a in sys.argv[2:])
    console = os.path.join(outdir, "console.log")
    runs = {}
    fails = []
    for line in open(console, errors="replace"):
        m = LINE.search(line)
        if m:
            chunk, pattern, sync, path, rep, nbytes, calls, ns, handles, written = m.groups()
            case = case_name(pattern, sync, int(chunk))
            ns = int(ns)
            runs.setdefault((case, path), []).append({
                "rep": int(rep), "bytes": int(nbytes), "calls": int(calls),
                "ns": ns, "MiBps": int(nbytes) / 1048576 / (ns / 1e9),
                "ns_per_call": ns / int(calls),
                "handles_per_MiB": (int(handles) / (int(nbytes) / 1048576)
                                    if handles is not None else None),
                "written_pages": int(written) if written is not None else None})
        elif re.match(r"\s*not ok \d+ ", line):
            fails.append(line.strip())
    order = {p: i for i, p in enumerate(PATTERNS)}
    sorder = {"": 0, "-fsync": 1, "-dontcache": 2}

    def key(case):
        base, chunk = case.rsplit("-", 1)
        size = int(chunk[:-1]) * (1048576 if chunk[-1] == "m" else 1024)
        sync = next((x for x in ("-fsync", "-dontcache") if base.endswith(x)), "")
        pat = base[:len(base) - len(sync)]
        return (size, pat.startswith("read-"), sorder[sync], order.get(pat, 9))

    cases = sorted({c for c, _ in runs}, key=key)
    result = {"facts": facts, "failures": fails, "cases": []}
    for case in cases:
        entry = {"case": case, "paths": {}}
        for p in PATHS:
            r = runs.get((case, p), [])
            if not r:
                continue
            bw = [x["MiBps"] for x in r]
            hs = [x["handles_per_MiB"] for x in r if x["handles_per_MiB"] is not None]
            wr = [x["written_pages"] * 4096 / x["bytes"] for x in r
                  if x["written_pages"] is not None]
            entry["paths"][p] = {
                "runs": len(r), "median_MiBps": statistics.median(bw),
                "min_MiBps": min(bw), "max_MiBps": max(bw),
                "ns_per_call": statistics.median(x["ns_per_call"] for x in r),
                "handles_per_MiB": statistics.median(hs) if hs else None,
                "written_back": statistics.median(wr) if wr else None,
                "min_ms": min(x["ns"] for x in r) / 1e6, "raw": r}
        ps = entry["paths"]
        for k, a, b, key_ in (("iomap_vs_bh", "iomap", "bh", "median_MiBps"),
                              ("best_iomap_vs_bh", "iomap", "bh", "max_MiBps"),
                              ("nd_vs_bh_nd", "iomap-nd", "bh-nd", "median_MiBps"),
                              ("nd_vs_bh_nd_lock", "iomap-nd", "bh-nd-lock", "median_MiBps"),
                              ("nodelalloc_vs_delalloc", "iomap-nd", "iomap", "median_MiBps"),
                              ("bh_of_copy", "bh", "copy", "median_MiBps"),
                              ("iomap_of_copy", "iomap", "copy", "median_MiBps")):
            r = ratio(ps, a, b, key_)
            if r is not None:
                entry[k] = r
        result["cases"].append(entry)

    profiles = {}
    for c in PROFILES:
        txt = os.path.join(outdir, f"profile-{c}.txt")
        log = os.path.join(outdir, f"profile-{c}.log")
        if not os.path.exists(txt) or not os.path.exists(log):
            continue
        m = None
        for line in open(log, errors="replace"):
            m = PLINE.search(line) or m
        if not m:
            continue
        chunk, pattern, sync, path, calls, ns = m.groups()
        reads = pattern.startswith("read-")
        share = read_profile(txt)
        sp = split_profile(path, share, reads)
        if not sp:
            continue
        ns_call = int(ns) / int(calls)
        profiles[c] = {"path": path, "chunk": int(chunk), "pattern": pattern,
                       "sync": sync or "cached", "reads": reads,
                       "ns_per_call": ns_call, "percent": sp,
                       "ns": {k: v * ns_call / 100 for k, v in sp.items()},
                       "top": sorted(share.items(), key=lambda kv: -kv[1])[:40]}
    result["profile"] = profiles
    result["goals"] = [{"goal": g, "cases": n, "missed": [{"case": c, "ratio": r} for c, r in miss]}
                       for g, n, miss in goals(result["cases"])]
    with open(os.path.join(outdir, "bench.json"), "w") as f:
        json.dump(result, f, indent=1)

    md = []
    md.append("Buffered I/O at native speed: kernel_write() or kernel_read() of one "
              "chunk per call on ext4 with 4 KiB blocks on the in-memory disk of "
              "the KUnit fixture, under UML; a fresh file system per run, the paths "
              "alternated within each repetition. \"copy only\" is the same bytes "
              "copied into or out of a kernel buffer, with no file system: the "
              "ceiling.")
    md.append("")
    md.append("Machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    md.append("")
    md.append("Median MiB/s (min-max):")
    md.append("")
    md.append("| case |" + "".join(f" {NAMES[p]} |" for p in PATHS))
    md.append("|" + "---|" * (1 + len(PATHS)))
    for e in result["cases"]:
        row = f"| {e['case']} |"
        for p in PATHS:
            x = e["paths"].get(p)
            row += (f" {x['median_MiBps']:.0f} ({x['min_MiBps']:.0f}-{x['max_MiBps']:.0f}) |"
                    if x else " - |")
        md.append(row)
    md.append("")
    md.append("Ratios of the medians (\"best\": of the fastest runs; nd: nodelalloc, "
              "da: delalloc; \"of copy\": the share of the copy-only ceiling):")
    md.append("")
    rcols = [("iomap_vs_bh", "iomap/bh"), ("best_iomap_vs_bh", "best iomap/bh"),
             ("nd_vs_bh_nd", "iomap nd/bh nd"),
             ("nd_vs_bh_nd_lock", "iomap nd/bh nd,dioread_lock"),
             ("nodelalloc_vs_delalloc", "iomap nd/da"),
             ("bh_of_copy", "bh of copy"), ("iomap_of_copy", "iomap of copy")]
    md.append("| case |" + "".join(f" {t} |" for _, t in rcols))
    md.append("|" + "---|" * (1 + len(rcols)))
    for e in result["cases"]:
        md.append(f"| {e['case']} |" + "".join(
            f" {e[k]:.2f} |" if k in e else " - |" for k, _ in rcols))
    md.append("")
    md.append("ns per call, and the journal handles started per MiB (writes):")
    md.append("")
    md.append("| case |" + "".join(f" {NAMES[p]} ns |" for p in PATHS) +
              "".join(f" {NAMES[p]} handles/MiB |" for p in PATHS if p != "copy"))
    md.append("|" + "---|" * (2 * len(PATHS)))
    for e in result["cases"]:
        row = f"| {e['case']} |"
        for p in PATHS:
            x = e["paths"].get(p)
            row += f" {x['ns_per_call']:.0f} |" if x else " - |"
        for p in PATHS:
            if p == "copy":
                continue
            x = e["paths"].get(p)
            row += (f" {x['handles_per_MiB']:.1f} |"
                    if x and x["handles_per_MiB"] is not None else " - |")
        md.append(row)
    dc = [e for e in result["cases"] if "-dontcache-" in e["case"]]
    if dc:
        md.append("")
        md.append("RWF_DONTCACHE: the share of the data written back within the timed "
                  "part (pages written back, all devices, over the pages written), "
                  "and journal handles per page written back:")
        md.append("")
        dpaths = [p for p in PATHS if p != "copy"]
        md.append("| case |" + "".join(f" {NAMES[p]} |" for p in dpaths))
        md.append("|" + "---|" * (1 + len(dpaths)))
        for e in dc:
            row = f"| {e['case']} |"
            for p in dpaths:
                x = e["paths"].get(p)
                if not x or x["written_back"] is None:
                    row += " - |"
                    continue
                wb = x["written_back"]
                hpp = (x["handles_per_MiB"] / (256 * wb)
                       if wb and x["handles_per_MiB"] is not None else 0)
                row += f" {wb:.2f}, {hpp:.3f} handles/page |"
            md.append(row)
    short = [(e["case"], p, x["min_ms"]) for e in result["cases"]
             for p, x in e["paths"].items() if x["min_ms"] < 100 and p != "copy"]
    md.append("")
    if short:
        md.append("Runs shorter than 100 ms (raise BENCH_SCALE): " +
                  ", ".join(f"{c} {p} {t:.0f} ms" for c, p, t in short[:8]))
    else:
        md.append("Every run of a file system path took at least 100 ms.")
    md.append("")
    md.append("Goals (issue 25), on the medians:")
    md.append("")
    for g in result["goals"]:
        if not g["cases"]:
            md.append(f"- {g['goal']}: not measured")
        elif not g["missed"]:
            md.append(f"- {g['goal']}: **met** ({g['cases']} cases)")
        else:
            md.append(f"- {g['goal']}: **not met** in {len(g['missed'])} of {g['cases']} cases: " +
                      ", ".join(f"{x['case']} {x['ratio']:.2f}" for x in g["missed"]))
    for reads, parts, what in ((False, WPARTS, "write"), (True, RPARTS, "read")):
        sel = {c: pr for c, pr in profiles.items() if pr["reads"] == reads}
        if not sel:
            continue
        md.append("")
        md.append(f"Where the time of one {what} call goes (perf samples of a separate "
                  "boot, callees included, scaled to that boot's ns per call):")
        md.append("")
        md.append("| path, pattern, chunk | ns/call |" + "".join(f" {p} |" for p in parts))
        md.append("|" + "---|" * (2 + len(parts)))
        for c, pr in sel.items():
            pat = pr["pattern"] + ("" if pr["sync"] == "cached" else " " + pr["sync"])
            md.append(f"| {NAMES[pr['path']]} {pat} {chunk_name(pr['chunk'])} | "
                      f"{pr['ns_per_call']:.0f} |" +
                      "".join(f" {pr['ns'][p]:.0f} ({pr['percent'][p]:.0f}%) |"
                              for p in parts))
    if fails:
        md.append("")
        md.append(f"{len(fails)} case(s) failed: " + "; ".join(fails[:5]))
    with open(os.path.join(outdir, "bench.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    # The chart leaves the copy-only ceiling out: it would flatten the rest.
    cpaths = [p for p in PATHS if p != "copy"]
    with open(os.path.join(outdir, "bench.dat"), "w") as f:
        f.write("case " + " ".join(NAMES[p].replace(" ", "_") for p in cpaths) + "\n")
        for e in result["cases"]:
            f.write(e["case"] + " " + " ".join(
                f"{e['paths'][p]['median_MiBps']:.1f}" if p in e["paths"] else "0"
                for p in cpaths) + "\n")
    print("\n".join(md))
    return 0 if result["cases"] and not fails else 1


if __name__ == "__main__":
    sys.exit(main())
