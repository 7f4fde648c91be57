#!/usr/bin/env bash
# test_docs_references.sh - every reference to the design resolves: each "docs/DESIGN.md §N"
# and "docs/STYLE.md §N" in code, scripts and docs names a section that exists (a plain "§N"
# inside those two pages names one of their own), every relative Markdown link in the
# repository's .md files points at a file that exists (and at a heading there, when it has
# a #fragment), and nothing cites a DESIGN.md or STYLE.md by a path that is not in the
# repository. Negative controls: a bad section, a bad anchor and an outside path, each in a
# scratch file, must be reported.
source "$PYSCOPE_SRC/tests/integration/lib.sh"

check() { # check ROOT [EXTRA_FILE...]: the problems found, one a line
    "$PY" - "$@" <<'PY'
import os, re, subprocess, sys

root = sys.argv[1]
extra = sys.argv[2:]
try:
    files = subprocess.run(["git", "-C", root, "ls-files"], capture_output=True, text=True,
                           check=True).stdout.split("\n")
except (OSError, subprocess.CalledProcessError):
    files = [os.path.relpath(os.path.join(d, f), root) for d, ds, fs in os.walk(root)
             for f in fs if "/build" not in d and "/.git" not in d]
# (this test's own text holds broken references on purpose)
files = [f for f in files if f and not f.startswith(("build", "tests/fuzz/corpus/"))
         and f != "tests/integration/test_docs_references.sh"] + extra


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def headings(path):
    out, sections = set(), set()
    try:
        text = open(path, encoding="utf-8").read()
    except OSError:
        return out, sections
    for m in re.finditer(r"^#{1,6} +(.+?) *$", text, re.M):
        out.add(slug(m.group(1)))
        n = re.match(r"(\d+)\.", m.group(1))
        if n and m.group(0).startswith("## "):
            sections.add(n.group(1))
    return out, sections


docs = {name: headings(os.path.join(root, "docs", name)) for name in ("DESIGN.md", "STYLE.md")}
problems = []
cite = re.compile(r"(\S*?)(DESIGN|STYLE)\.md((?:#[\w-]+)?)((?:[ ,]+(?:and )?§\d+)*)(?:\]\([^)]*\))?")
for rel in files:
    path = os.path.join(root, rel)
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except (OSError, IsADirectoryError):
        continue
    here = os.path.dirname(rel)
    for m in cite.finditer(text):
        prefix, name, frag, secs = m.group(1), m.group(2) + ".md", m.group(3), m.group(4)
        prefix = re.split(r"[(\[\]`\"']", prefix)[-1]
        if prefix.startswith("."):
            target = os.path.normpath(os.path.join(here, prefix + name))
        elif not prefix and here == "docs":
            target = "docs/" + name
        else:
            target = os.path.normpath(prefix + name)
        if target != "docs/" + name:
            problems.append(f"{rel}: cites {prefix}{name}, which is not docs/{name}")
            continue
        for n in re.findall(r"§(\d+)", secs):
            if n not in docs[name][1]:
                problems.append(f"{rel}: cites docs/{name} §{n}, which has no section {n}")
    if rel in ("docs/DESIGN.md", "docs/STYLE.md"):
        own = docs[os.path.basename(rel)][1]
        for n in re.findall(r"(?<![\w.])§(\d+)", re.sub(cite, "", text)):
            if n not in own:
                problems.append(f"{rel}: §{n} names no section of this page")
    if rel.endswith(".md"):
        for m in re.finditer(r"\]\(([^)\s]+)\)", text):
            link = m.group(1)
            if re.match(r"[a-z]+:", link):
                continue
            file_part, _, frag = link.partition("#")
            target = os.path.normpath(os.path.join(here, file_part)) if file_part else rel
            if not os.path.exists(os.path.join(root, target)):
                problems.append(f"{rel}: link to {link}: no file {target}")
            elif frag and target.endswith(".md") and frag not in headings(os.path.join(root, target))[0]:
                problems.append(f"{rel}: link to {link}: no heading #{frag} in {target}")
for p in problems:
    print(p)
PY
}

out=$(check "$PYSCOPE_SRC")
expect_eq "every design reference and Markdown link resolves" "" "$out"

# negative controls: the check must notice each kind of broken reference
mkdir -p "$T/src/docs"
cp "$PYSCOPE_SRC/docs/DESIGN.md" "$PYSCOPE_SRC/docs/STYLE.md" "$T/src/docs/"
printf '/* see docs/DESIGN.md §99 and DESIGN.md §2 */\n' >"$T/src/a.c"
printf '[x](docs/DESIGN.md#no-such-heading) [y](docs/missing.md)\n' >"$T/src/b.md"
out=$(check "$T/src" a.c b.md)
expect_match "control: a missing section is reported" "a.c: cites docs/DESIGN.md §99" "$out"
expect_match "control: a path outside docs/ is reported" "a.c: cites DESIGN.md, which is not" "$out"
expect_match "control: a missing heading is reported" "b.md: link to .*no heading #no-such-heading" "$out"
expect_match "control: a missing file is reported" "b.md: link to docs/missing.md: no file" "$out"
finish
