#!/usr/bin/env bash
# test_code_structure.sh - the structure the build promises (docs/DESIGN.md §3, lib/README.md):
# 1. lib/'s layers hold: no module includes a header of a layer above its own or of a
#    program, nor a PyScope header with <> (lib/check_layers.cmake, which also stops the
#    configure step), and each layer's
#    archive calls only into its own layer and the layers below it (nm);
# 2. no two external symbols are defined twice across the project's static libraries and the
#    coordinator's objects (nm), so that no link depends on which object happens to be pulled;
# 3. no two headers share a name (an #include "x.h" means one file);
# 4. no test compiles a .c into itself (tests link the programs' core libraries and the fuzz
#    targets' library);
# 5. no product function is longer than 100 lines (docs/STYLE.md) but those listed, each with
#    its reason, in tests/integration/long_functions.txt, and those do not grow
#    (scripts/function-lengths.py);
# 6. every lib/ module is linked into two programs or more (nm on the executables): a module
#    one program uses lives in that program's folder.
# Each check has a negative control: a scratch copy with the fault planted must be refused.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
command -v nm >/dev/null || skip "nm (binutils) is not installed"
CMAKE=${CMAKE:-cmake}
command -v "$CMAKE" >/dev/null || skip "cmake is not installed"

# ---- 1. layers by #include --------------------------------------------------------------
run "$CMAKE" -DPYSCOPE_LIB_DIR="$PYSCOPE_SRC/lib" -P "$PYSCOPE_SRC/lib/check_layers.cmake"
expect_eq "lib/ layers hold" 0 "$RC"
[ "$RC" -eq 0 ] || echo "$ERR"

mkdir -p "$T/lib"
cp "$PYSCOPE_SRC"/lib/*.c "$PYSCOPE_SRC"/lib/*.h "$PYSCOPE_SRC"/lib/*.cmake "$T/lib/"
echo '#include "html_page.h"' >>"$T/lib/stats.c"          # stats uses rendering: up
echo '#include "wire.h"' >>"$T/lib/html_team.c"           # rendering uses the farm: across
echo '#include "store.h"' >>"$T/lib/jsonutil.c"           # lib/ uses a program
echo '#include <html_team.h>' >>"$T/lib/regress.c"        # up, hidden in <>
printf 'int stray;\n' >"$T/lib/stray.c"                   # a module in no layer
sed -i 's/^set(PYSCOPE_LAYER_farm /set(PYSCOPE_LAYER_farm jsonutil /' "$T/lib/layers.cmake" # twice
run "$CMAKE" -DPYSCOPE_LIB_DIR="$T/lib" -P "$T/lib/check_layers.cmake"
expect_eq "an upward include is refused" 1 "$RC"
expect_match "names the upward include" 'lib/stats.c \(layer stats\) includes "html_page.h" \(layer render\)' "$ERR"
expect_match "names the include across" 'lib/html_team.c \(layer render\) includes "wire.h" \(layer farm\)' "$ERR"
expect_match "names a program's header" 'lib/jsonutil.c: includes "store.h", which is not a lib/ header' "$ERR"
expect_match "names a PyScope header in <>" 'lib/regress.c: includes <html_team.h>, a PyScope header' "$ERR"
expect_match "names a module in no layer" "lib/stray.c: module 'stray' is in no layer" "$ERR"
expect_match "names a module listed twice" "module 'jsonutil' is listed twice \\(layers core and farm\\)" "$ERR"

# lib/README.md's table names every module of lib/layers.cmake.
missing=$("$PY" - "$PYSCOPE_SRC/lib/layers.cmake" "$PYSCOPE_SRC/lib/README.md" <<'PY'
import re, sys
layers, readme = open(sys.argv[1]).read(), open(sys.argv[2]).read()
mods = [m for name, body in re.findall(r"set\(PYSCOPE_LAYER_(\w+)([^)]*)\)", layers)
        if not name.endswith("_USES") and name != "GENERATED" for m in body.split()]
print(" ".join(m for m in mods if "`%s`" % m not in readme))
PY
)
expect_eq "lib/README.md names every module of lib/layers.cmake" "" "$missing"

# ---- 1b and 2. symbols ------------------------------------------------------------------
# The project's static libraries (CMake targets: lib/'s layers, the programs' core libraries,
# the runner's, the generated protobuf code) and the coordinator's other objects.
archives=()
for a in lib/libpyscope_core.a lib/libpyscope_stats.a lib/libpyscope_render.a \
    lib/libpyscope_farm.a cli/libpyscope_cli_core.a agent/libpyscope_agent_core.a \
    coordinator/libpyscope_coord_base.a agent/runner/librunnercore.a proto/libpyscope_proto.a; do
    if [ -f "$PYSCOPE_BUILD/$a" ]; then archives+=("$PYSCOPE_BUILD/$a"); else
        fail "archive $a" "missing: build first (scripts/build.sh)"; fi
done
# (the objects its link line names: a build folder may keep objects of renamed files)
link="$PYSCOPE_BUILD/coordinator/CMakeFiles/pyscope-coordinator.dir/link.txt"
mapfile -t coord_objs < <(tr ' ' '\n' <"$link" 2>/dev/null | grep '\.o$' |
    sed "s#^#$PYSCOPE_BUILD/coordinator/#" | sort -u)
[ "${#coord_objs[@]}" -ge 5 ] || fail "coordinator objects" "only ${#coord_objs[@]} found"

symbols() { # symbols FILE...: "defined|undefined SYMBOL FILE" lines
    "$PY" - "$@" <<'PY'
import subprocess, sys
for f in sys.argv[1:]:
    for mode, flag in (("D", "--defined-only"), ("U", "--undefined-only")):
        out = subprocess.run(["nm", "-g", flag, f], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 2 and not line.endswith(":"):
                t, name = parts[-2], parts[-1]
                if mode == "D" and t in "WwVvU":
                    continue  # weak definitions (inline, COMDAT) may repeat
                print(mode, name, f)
PY
}
dups() { # dups FILE...: symbols defined in more than one file
    symbols "$@" | awk '$1 == "D" { if (seen[$2] && seen[$2] != $3) print $2 ": " seen[$2] " and " $3; else seen[$2] = $3 }'
}
D=$(dups "${archives[@]}" "${coord_objs[@]}")
expect_eq "no external symbol is defined twice" "" "$D"

printf 'void *xmalloc(unsigned long n) { return (void *)n; }\n' >"$T/dup.c"
cc -c "$T/dup.c" -o "$T/dup.o" && ar rc "$T/libdup.a" "$T/dup.o"
D=$(dups "${archives[@]}" "$T/libdup.a")
expect_match "a symbol defined twice is found" "^xmalloc: .*libpyscope_core.a and .*libdup.a" "$D"

# Each layer's archive calls only into the layers it may use (lib/layers.cmake).
layer_calls() { # layer_calls FILE: from symbols' lines in FILE, "LAYER calls SYMBOL of
    # OWNER" for every call of a layer's archive into one it may not use
    "$PY" - "$PYSCOPE_SRC/lib/layers.cmake" "$1" <<'PY'
import os, re, sys
text = open(sys.argv[1]).read()
def layer_list(name):
    m = re.search(r"set\(PYSCOPE_LAYER_%s_USES([^)]*)\)" % name, text)
    return m.group(1).split() if m else []
layers = re.search(r"set\(PYSCOPE_LAYERS([^)]*)\)", text).group(1).split()
defs, undefs = {}, {}
for line in open(sys.argv[2]):
    mode, sym, f = line.split()
    m = re.search(r"libpyscope_(\w+)\.a$", f)
    owner = m.group(1) if m else os.path.basename(f)
    (defs if mode == "D" else undefs).setdefault(owner, set()).add(sym)
where = {s: o for o, ss in defs.items() for s in ss}
# the farm's wire calls the generated protobuf-c code (proto/, linked by pyscope_farm)
outside = {"farm": {"proto"}}
for layer in layers:
    allowed = {layer, *layer_list(layer), *outside.get(layer, ())}
    for s in sorted(undefs.get(layer, ())):
        o = where.get(s)
        if o is not None and o not in allowed:
            print(f"{layer} calls {s} of {o}")
PY
}
symbols "${archives[@]}" >"$T/syms"
expect_eq "each layer calls only the layers below it" "" "$(layer_calls "$T/syms")"
echo "U html_page_open $PYSCOPE_BUILD/lib/libpyscope_stats.a" >>"$T/syms"
expect_match "a call up a layer is found" "^stats calls html_page_open of render" \
    "$(layer_calls "$T/syms")"

# ---- 3. header names --------------------------------------------------------------------
headers() { (cd "$1" && git ls-files '*.h' 2>/dev/null || find . -name '*.h' -not -path './build*') |
    grep -v '^tests/fuzz/corpus/' | xargs -n1 basename | sort | uniq -d; }
expect_eq "no two headers share a name" "" "$(headers "$PYSCOPE_SRC")"
mkdir -p "$T/h/a" "$T/h/b" && touch "$T/h/a/config.h" "$T/h/b/config.h"
expect_eq "two headers of one name are found" "config.h" "$(headers "$T/h")"

# ---- 4. tests link, they do not include a .c (a program's, or a fuzz target's) -----------
product_c() { grep -rnE --include='*.c' --include='*.h' '^[ \t]*#[ \t]*include[ \t]*"[^"]*\.c"' "$@" || true; }
expect_eq "no test includes a .c file" "" "$(product_c "$PYSCOPE_SRC/tests")"
mkdir -p "$T/t" && echo '#include "../../agent/spool.c"' >"$T/t/test_x.c"
echo '#include "../fuzz/fuzz_wire.c"' >"$T/t/test_y.c"
expect_match "a test including a program's .c is found" "test_x.c" "$(product_c "$T/t")"
expect_match "a test including a fuzz target's .c is found" "test_y.c" "$(product_c "$T/t")"

# ---- 5. function length ----------------------------------------------------------------
FL="$PYSCOPE_SRC/scripts/function-lengths.py"
ALLOW="$PYSCOPE_SRC/tests/integration/long_functions.txt"
run "$PY" "$FL" --allow "$ALLOW" "$PYSCOPE_SRC"
expect_eq "no function over 100 lines but those listed, none past its ceiling" 0 "$RC"
expect_eq "(what breaks the list)" "" "$OUT"

mkdir -p "$T/fl/lib" "$T/fl/tests"
{ # lib/long.c: grown (a listed function past its ceiling), fresh (101 lines, not listed),
  # short (100 lines, not listed), quiet (listed, no comment saying why), told (listed, and
  # its comment says why); tests/t.c: a test's long function does not count
    for f in grown fresh short quiet told; do
        [ "$f" = told ] && printf '/* Longer than 100 lines, kept whole: a reason. */\n'
        printf 'static int %s(int x)\n{\n' "$f"
        n=101; [ "$f" = grown ] && n=112; [ "$f" = short ] && n=100
        for _ in $(seq "$n"); do printf '    x++;\n'; done
        printf '}\n\n'
    done
} >"$T/fl/lib/long.c"
{ printf 'int t(int x)\n{\n'; for _ in $(seq 150); do printf '    x++;\n'; done; printf '}\n'; } \
    >"$T/fl/tests/t.c"
printf '# a comment\nlib/long.c grown 110 listed\nlib/gone.c gone 120 split since\n' >"$T/fl/allow"
printf 'lib/long.c quiet 110 listed\nlib/long.c told 110 listed\n' >>"$T/fl/allow"
run "$PY" "$FL" --allow "$T/fl/allow" "$T/fl"
expect_eq "a list that breaks fails" 1 "$RC"
expect_match "a listed function past its ceiling" 'lib/long.c:1: grown has 112 lines, more than its ceiling of 110' "$OUT"
expect_match "an unlisted function over 100 lines" 'lib/long.c:[0-9]+: fresh has 101 lines \(at most 100' "$OUT"
expect_match "a stale entry" 'lib/gone.c gone is no longer over 100 lines \(or is gone\): take it off' "$OUT"
expect_match "a listed function whose comment does not say why" \
    'lib/long.c:[0-9]+: quiet is listed in allow but its comment does not say why' "$OUT"
expect_eq "100 lines pass, a listed one that says why passes, tests do not count" "" \
    "$(grep -E 'short|told|t\.c' <<<"$OUT")"


# ---- 6. lib/ holds what two programs use -------------------------------------------------
# Each lib/ module is linked into two or more of the four programs; a module one program uses
# lives in that program's folder (lib/README.md). A module is linked into a program when one
# of its external symbols is defined in the program's executable (nm: a static archive gives
# a program only the objects it calls).
programs=(cli/pyscope agent/pyscope-agent coordinator/pyscope-coordinator agent/runner/pyscope-run)
for p in "${programs[@]}"; do
    [ -f "$PYSCOPE_BUILD/$p" ] || fail "program $p" "missing: build first (scripts/build.sh)"
done
one_program() { # one_program PROGRAM...: each lib/ module linked into fewer than two of them
    "$PY" - "$PYSCOPE_BUILD" "$@" <<'PY'
import glob, subprocess, sys
build, progs = sys.argv[1], sys.argv[2:]
def nm(*args):
    return subprocess.run(["nm", *args], capture_output=True, text=True, check=True).stdout
owner = {}  # external symbol -> its lib/ module
for a in sorted(glob.glob(f"{build}/lib/libpyscope_*.a")):
    for line in nm("-A", "-g", "--defined-only", a).splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[-2] not in "WwVvU":
            owner[parts[-1]] = parts[0].split(":")[1].removesuffix(".o").removesuffix(".c")
users = {m: [] for m in owner.values()}
for p in progs:
    defined = {line.split()[-1] for line in nm("--defined-only", f"{build}/{p}").splitlines()
               if len(line.split()) >= 3}
    for m in sorted({owner[s] for s in defined if s in owner}):
        users[m].append(p)
for m, ps in sorted(users.items()):
    if len(ps) < 2:
        print(f"lib/{m}.c is linked into {' and '.join(ps) or 'no program'} only: move it into "
              "that program's folder (lib/README.md)")
PY
}
expect_eq "every lib/ module is linked into two programs or more" "" "$(one_program "${programs[@]}")"
expect_match "a module one program uses is found (the coordinator left out: flamediff)" \
    "^lib/flamediff.c is linked into cli/pyscope only" \
    "$(one_program cli/pyscope agent/pyscope-agent agent/runner/pyscope-run)"

finish
