#!/usr/bin/env bash
# test_runner_probecache.sh - pyscope-run remembers what an interpreter said it is
# (agent/runner/probecache.h) and asks again whenever the answer could have changed:
# the binary touched or replaced, a pyvenv.cfg appearing beside it; never for a launcher
# that is not an ELF binary; a corrupt, foreign or unwritable cache means "ask", never an
# error. PYSCOPE_DEBUG=1 makes pyscope-run say which it did.
# labels: asan
source "$(dirname "$0")/lib.sh"

real=$(readlink -f "$PY")
[ -x "$real" ] || skip "no $PY"
head -c 4 "$real" | grep -q ELF || skip "$PY is not an ELF binary"

# A private copy of a real interpreter, in a folder of its own, so it can be touched
# and replaced (it finds its standard library through its built-in prefix).
mkdir -p "$T/py/bin"
cp "$real" "$T/py/bin/python3"
pyc="$T/py/bin/python3"
export XDG_CACHE_HOME="$T/cache"
cache="$XDG_CACHE_HOME/pyscope/pyinfo"
: >"$T/empty.py"

# ps NAME [PYTHON]: run the empty script with PYSCOPE_DEBUG=1; $RC, $T/NAME.err.
ps() {
    rm -f "$T/$1.json"
    set +e
    PYSCOPE_DEBUG=1 timeout -k 5 60 "$PYSCOPE_RUN" --python "${2:-$pyc}" --output "$T/$1.json" \
        "$T/empty.py" >"$T/$1.out" 2>"$T/$1.err"
    RC=$?
    set -e
}
asked() { grep -c 'debug: asking' "$T/$1.err" || true; }
used() { grep -c 'debug: used the remembered answer' "$T/$1.err" || true; }
version() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["python"]["version"])' "$T/$1.json"; }

ps first
expect_eq "first run: exit 0" 0 "$RC"
expect_eq "first run: the interpreter is asked" "1 0" "$(asked first) $(used first)"
files=("$cache"/*)
expect_eq "one cache file" 1 "${#files[@]}"
expect_eq "cache folder is 0700" 700 "$(stat -c %a "$cache")"
expect_eq "cache file is 0600" 600 "$(stat -c %a "${files[0]}")"
want=$(version first)

ps second
expect_eq "second run: exit 0" 0 "$RC"
expect_eq "second run: the remembered answer, not asked" "0 1" "$(asked second) $(used second)"
expect_eq "second run: same python.version" "$want" "$(version second)"

# The binary touched (an upgrade in place keeps the inode): asked again, remembered again.
sleep 0.01
touch "$pyc"
ps touched
expect_eq "binary touched: asked again" "1 0" "$(asked touched) $(used touched)"
ps touched2
expect_eq "after that: remembered" "0 1" "$(asked touched2) $(used touched2)"

# The binary replaced by another file (new inode), as a package upgrade does.
cp "$real" "$T/py/bin/python3.new"
mv "$T/py/bin/python3.new" "$pyc"
ps replaced
expect_eq "binary replaced: asked again" "1 0" "$(asked replaced) $(used replaced)"
expect_eq "binary replaced: exit 0" 0 "$RC"

# A pyvenv.cfg appearing beside it (or one folder up) changes sys.prefix: asked again.
printf 'home = %s\n' "$(dirname "$real")" >"$T/py/pyvenv.cfg"
ps venvcfg
expect_eq "pyvenv.cfg one folder up appeared: asked again" "1 0" "$(asked venvcfg) $(used venvcfg)"
expect_eq "pyvenv.cfg: sys.prefix is the folder" "$T/py" \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["python"]["prefix"])' "$T/venvcfg.json")"
# Removed again: the key is that of the run before it (same binary, no pyvenv.cfg), whose
# answer is remembered, and it is the right one (not the virtualenv's prefix).
rm "$T/py/pyvenv.cfg"
ps novenvcfg
expect_eq "pyvenv.cfg removed: the earlier answer for that state" "0 1" \
    "$(asked novenvcfg) $(used novenvcfg)"
expect_eq "pyvenv.cfg removed: sys.prefix is no longer the folder" "$(version replaced) no" \
    "$(version novenvcfg) $(python3 -c 'import json,sys; print("yes" if json.load(open(sys.argv[1]))["python"]["prefix"] == sys.argv[2] else "no")' "$T/novenvcfg.json" "$T/py")"

# Corrupt cache files are ignored (and replaced), never an error.
for f in "$cache"/*; do printf 'pyscope-pyinfo 1\nkey 12\ngarbage' >"$f"; done
ps corrupt
expect_eq "corrupt cache: exit 0" 0 "$RC"
expect_eq "corrupt cache: asked" "1 0" "$(asked corrupt) $(used corrupt)"
ps corrupt2
expect_eq "corrupt cache: replaced by a good one" "0 1" "$(asked corrupt2) $(used corrupt2)"
for f in "$cache"/*; do head -c 200 "$f" >"$f.cut" && cat "$f.cut" >"$f" && rm "$f.cut"; done
ps truncated
expect_eq "truncated cache: asked, exit 0" "1 0 0" "$(asked truncated) $(used truncated) $RC"
# An answer that is not one (the key intact, the answer cut to three lines).
for f in "$cache"/*; do
    python3 - "$f" <<'PYEOF'
import sys
p = sys.argv[1]
s = open(p).read()
head, _, answer = s.partition("\nlib ")
lib, _, answer = answer.partition("\n")
open(p, "w").write(head + "\nlib " + lib + "\n" + "\n".join(answer.split("\n")[:3]) + "\n")
PYEOF
done
ps badanswer
expect_eq "cached text that is no answer: asked, exit 0" "1 0 0" \
    "$(asked badanswer) $(used badanswer) $RC"
# Another user could have written a world-writable file: not trusted.
chmod 0666 "$cache"/*
ps worldw
expect_eq "world-writable cache file: asked" "1 0" "$(asked worldw) $(used worldw)"

# A launcher that is not an ELF binary (a pyenv shim is a shell script): asked every time.
printf '#!/bin/sh\nexec "%s" "$@"\n' "$pyc" >"$T/py/bin/shim"
chmod +x "$T/py/bin/shim"
before=$(ls "$cache" | wc -l)
ps shim1 "$T/py/bin/shim"
ps shim2 "$T/py/bin/shim"
expect_eq "shell-script launcher: exit 0" 0 "$RC"
expect_eq "shell-script launcher: asked both times" "1 1" "$(asked shim1) $(asked shim2)"
expect_match "shell-script launcher: says why" "not remembered: not an ELF binary" "$(cat "$T/shim2.err")"
expect_eq "shell-script launcher: nothing cached for it" "$before" "$(ls "$cache" | wc -l)"

# An unusable cache folder (a file in the way): asked, exit 0, no message without debug.
: >"$T/notadir"
set +e
XDG_CACHE_HOME="$T/notadir" "$PYSCOPE_RUN" --python "$pyc" --output "$T/nodir.json" "$T/empty.py" \
    >"$T/nodir.out" 2>"$T/nodir.err"
RC=$?
set -e
expect_eq "unwritable cache folder: exit 0" 0 "$RC"
expect_eq "unwritable cache folder: silent" "" "$(cat "$T/nodir.err")"
# ... which PYSCOPE_DEBUG=1 says, with the folder and why
set +e
XDG_CACHE_HOME="$T/notadir" PYSCOPE_DEBUG=1 "$PYSCOPE_RUN" --python "$pyc" --output "$T/nodir.json" \
    "$T/empty.py" >"$T/nodird.out" 2>"$T/nodird.err"
set -e
expect_match "unwritable cache folder, debug: said, with why" \
    "debug: the interpreter cache folder \"$T/notadir/pyscope/pyinfo\" is unusable \(could not make it: Not a directory\)" \
    "$(cat "$T/nodird.err")"
# No HOME and no XDG_CACHE_HOME: nothing cached, still runs.
set +e
env -u HOME -u XDG_CACHE_HOME PYSCOPE_DEBUG=1 "$PYSCOPE_RUN" --python "$pyc" --output "$T/nohome.json" \
    "$T/empty.py" >"$T/nohome.out" 2>"$T/nohome.err"
RC=$?
set -e
expect_eq "no HOME: exit 0, asked" "0 1" "$RC $(asked nohome)"
expect_match "no HOME, debug: said" "debug: no interpreter cache: HOME is unset and XDG_CACHE_HOME is unset" \
    "$(cat "$T/nohome.err")"
# A HOME that does not exist (a service account's /nonexistent) is never made, nor the parents
# of an XDG_CACHE_HOME: CI found /nonexistent/.cache made by a job run with HOME=/nonexistent.
set +e
env -u XDG_CACHE_HOME HOME="$T/no/such/home" "$PYSCOPE_RUN" --python "$pyc" --output "$T/nh.json" \
    "$T/empty.py" >"$T/nh.out" 2>"$T/nh.err"
RC=$?
XDG_CACHE_HOME="$T/no/such/xdg" "$PYSCOPE_RUN" --python "$pyc" --output "$T/nx.json" \
    "$T/empty.py" >"$T/nx.out" 2>"$T/nx.err"
RC="$RC $?"
set -e
expect_eq "a missing HOME or XDG parent: exit 0, nothing made" "0 0 no" \
    "$RC $([ -e "$T/no" ] && echo made || echo no)"
expect_eq "a missing HOME or XDG parent, no debug: silent" "" "$(cat "$T/nh.err" "$T/nx.err")"
set +e
env -u XDG_CACHE_HOME HOME="$T/no/such/home" PYSCOPE_DEBUG=1 "$PYSCOPE_RUN" --python "$pyc" \
    --output "$T/nh.json" "$T/empty.py" >"$T/nh.out" 2>"$T/nhd.err"
XDG_CACHE_HOME="$T/no/such/xdg" PYSCOPE_DEBUG=1 "$PYSCOPE_RUN" --python "$pyc" \
    --output "$T/nx.json" "$T/empty.py" >"$T/nx.out" 2>"$T/nxd.err"
set -e
expect_match "a missing HOME, debug: said, once" \
    "^1 .*no interpreter cache: HOME \"$T/no/such/home\" is not an existing folder \(it is never made\)" \
    "$(grep -c 'no interpreter cache' "$T/nhd.err") $(cat "$T/nhd.err")"
expect_match "a missing XDG parent, debug: said" \
    "no interpreter cache: XDG_CACHE_HOME's parent \"$T/no/such\" is not an existing folder" \
    "$(cat "$T/nxd.err")"
expect_eq "... and still nothing made" no "$([ -e "$T/no" ] && echo made || echo no)"
XDG_CACHE_HOME="$T/fresh" "$PYSCOPE_RUN" --python "$pyc" --output "$T/fr.json" "$T/empty.py" >/dev/null 2>&1
expect_eq "an XDG_CACHE_HOME whose parent exists is made (the XDG spec), 0700" 700 \
    "$(stat -c %a "$T/fresh" 2>/dev/null)"

finish
