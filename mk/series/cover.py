#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fill in the cover letter git format-patch --cover-letter wrote.

Usage: cover.py COVER REPO TEMPLATE BASE_DESC NPATCHES [LAST_RESULT]

The subject and the blurb come from TEMPLATE (mk/series/cover.txt for the
write path, cover-tests.txt for the test series: what and why,
how it was tested, what is known not to work), with @BASE@, @N@,
@RESULT@ and @MEASURED@ (the steps and the total of the last make test in
the same build directory, from results/times.txt and results/summary.txt)
replaced, and wrapped at 72 columns.
git format-patch already appends the shortlog, the diffstat and the
base-commit line; a numbered list of the patch subjects is added here.
"""
import os
import re
import sys
import textwrap


def patch_summaries(cover):
    """The subject of every patch next to COVER, in order."""
    import glob
    out = []
    for p in sorted(glob.glob(os.path.join(os.path.dirname(cover), "0*.patch"))):
        if p.endswith("0000-cover-letter.patch"):
            continue
        text = open(p, errors="replace").read()
        m = re.search(r"^Subject: \[PATCH[^\]]*\] (.*(?:\n .*)*)", text, re.M)
        subj = re.sub(r"\n(?= )", "", m.group(1)) if m else os.path.basename(p)
        out.append(subj)
    return out


def last_run(results):
    """What the last make test in this build directory measured."""
    try:
        summary = open(os.path.join(results, "summary.txt")).read().splitlines()
        times = open(os.path.join(results, "times.txt")).read().split("\n")
    except OSError:
        return ("This build directory holds no make test results; the README's "
                "\"Measured times\" has the last figures.")
    steps = ", ".join(f"{t.split()[0]} {t.split()[1]}" for t in times if t.strip())
    return (f"The last make test in the build directory of this series: "
            f"{summary[-1] if summary else '?'}; its steps took {steps}.")


def wrap(text):
    """Wrap paragraphs and "- " list items at 72 columns."""
    out = []
    for para in text.split("\n\n"):
        lines = para.split("\n")
        if para.startswith("The patches, in order:"):
            out.append(para)
            continue
        items, cur = [], []
        for line in lines:
            if line.startswith("- ") and cur:
                items.append(" ".join(cur))
                cur = []
            cur.append(line.strip())
        items.append(" ".join(cur))
        block = []
        for it in items:
            if it.startswith("- "):
                block.append(textwrap.fill(it, 72, subsequent_indent="  "))
            else:
                block.append(textwrap.fill(it, 72))
        out.append("\n".join(block))
    return "\n\n".join(out)


def main():
    cover, repo, template, base, n = sys.argv[1:6]
    result = sys.argv[6] if len(sys.argv) > 6 and sys.argv[6] else "see README"
    tmpl = open(template).read()
    measured = last_run(os.path.join(os.path.dirname(cover), "..", "..", "results"))
    tmpl = (tmpl.replace("@BASE@", base).replace("@N@", n)
            .replace("@RESULT@", result).replace("@MEASURED@", measured))
    subject, blurb = tmpl.split("\n", 1)
    blurb = wrap(blurb.strip("\n"))
    lines = ["The patches, in order:", ""]
    for i, s in enumerate(patch_summaries(cover), 1):
        lines.append(f"  {i:2d}. {s}")
    blurb += "\n\n" + "\n".join(lines)
    text = open(cover).read()
    if "*** SUBJECT HERE ***" not in text or "*** BLURB HERE ***" not in text:
        print("cover.py: not a fresh git format-patch cover letter", file=sys.stderr)
        return 1
    text = text.replace("*** SUBJECT HERE ***", subject.strip())
    text = text.replace("*** BLURB HERE ***", blurb)
    open(cover, "w").write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
