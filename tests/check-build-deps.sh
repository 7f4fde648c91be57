#!/usr/bin/env bash
# check-build-deps.sh BUILD_DIR - prove that the build needs nothing beyond
# `scripts/install-deps.sh` without --test (what the README's first commands install on a
# fresh Debian 12), and build a Release tree on the way (CI's one build type beside its own).
#
# The packages allowed are that list, everything it depends on (recursively) and what every
# Debian system has (Essential or Priority required). The tree is configured as a fresh
# machine would see it: pkg-config sees only the .pc files of allowed packages (so cmocka,
# a test package, is not found and the unit tests are registered as skipped), then built
# with -Werror. Every file the build used is then traced to its Debian package:
#   - the tools and libraries CMake found (CMakeCache.txt FILEPATH entries, cmake itself),
#   - every header the compiler read (the .o.d dependency files),
#   - every library given to the linker (link.txt: paths, and -lNAME as the compiler finds it),
#   - the compiler's own programs (cc1, as, ld),
#   - the shared libraries the programs load (ldd).
# Fails, naming the file and its package, when one comes from a package outside that list
# or from no package at all.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: check-build-deps.sh BUILD_DIR}
command -v dpkg-query >/dev/null && command -v apt-cache >/dev/null ||
    { echo "check-build-deps: needs dpkg and apt (Debian)" >&2; exit 2; }

mapfile -t main < <("$src/scripts/install-deps.sh" --list)
mkdir -p "$dir"
allowed=$dir/allowed-packages.txt
{
    apt-cache depends --recurse --installed --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances "${main[@]}" | grep -v '^ ' | grep -v '^<'
    dpkg-query -W -f='${Package} ${Essential} ${Priority}\n' |
        awk '$2 == "yes" || $3 == "required" { print $1 }'
} | sed 's/:.*//' | sort -u >"$allowed"

# pkg-config as on a machine with only the allowed packages: their .pc files, no others.
pcdir=$dir/pkgconfig-allowed
rm -rf "$pcdir"
mkdir -p "$pcdir"
IFS=: read -ra pcpath <<<"$(pkg-config --variable pc_path pkg-config)"
pcs=()
for d in "${pcpath[@]}"; do
    for pc in "$d"/*.pc; do [ -e "$pc" ] && pcs+=("$pc"); done
done
# "pkg[:arch][, pkg...]: /path/name.pc", one dpkg-query for all of them (it fails when
# one file belongs to no package: those stay hidden)
{ dpkg-query -S "${pcs[@]}" 2>/dev/null || true; } | while IFS= read -r line; do
    owner=${line%%: *} pc=${line#*: }
    owner=${owner%%,*} owner=${owner%%:*}
    if grep -qxF "$owner" "$allowed" && [ ! -e "$pcdir/${pc##*/}" ]; then
        ln -s "$pc" "$pcdir/${pc##*/}"
    fi
done

echo "check-build-deps: Release build in $dir with only: ${main[*]}"
log=$dir/build.log
# Python as on that machine too: Debian's 3.11 (python3.11, libpython3.11-dev) is the only one
# in the list, so pyscope-run's module is built for it alone, and the tests' python is it
# (other versions, e.g. under pyenv, would be found on this machine but not on a fresh one).
if ! PKG_CONFIG_LIBDIR=$pcdir cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release \
    -DPYSCOPE_WERROR=ON -DBUILD_TESTING=ON -DPYSCOPE_PYTHON_VERSIONS=3.11 \
    -DPYSCOPE_PYTHON_ROOTS=/usr -DPYSCOPE_PYTHON=/usr/bin/python3.11 >"$log" 2>&1 ||
    ! cmake --build "$dir" -j"${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" >>"$log" 2>&1; then
    echo "check-build-deps: the build failed with only those packages:" >&2
    grep -E "error|Error|not found|Could NOT" "$log" | head -20 >&2
    exit 1
fi

# python3.11 is in the build list; the python3 command is not (a fresh machine lacks it).
py=$(command -v python3.11 || command -v python3)
"$py" - "$src" "$dir" "$allowed" <<'PY'
import glob, os, re, shlex, subprocess, sys

src, build, allowed_file = (os.path.realpath(a) for a in sys.argv[1:4])
allowed = set(open(allowed_file).read().split())
used = {}  # file -> what used it


def add(path, why):
    path = os.path.normpath(path)
    if not path.startswith("/") or path.startswith((src + "/", build + "/")):
        return
    if os.path.isfile(path):
        used.setdefault(path, why)


cache = open(os.path.join(build, "CMakeCache.txt")).read()
for m in re.finditer(r"^([A-Za-z_0-9]+):(?:FILEPATH|INTERNAL)=(/\S.*)$", cache, re.M):
    if m.group(1).startswith(("CMAKE_", "PKG_CONFIG", "PROTOC", "PYSCOPE", "pkgcfg_lib", "Python")):
        add(m.group(2), "CMakeCache " + m.group(1))
cc = re.search(r"^CMAKE_C_COMPILER:\w+=(.*)$", cache, re.M).group(1)
for prog in ("cc1", "as", "ld", "collect2"):
    p = subprocess.run([cc, "-print-prog-name=" + prog], capture_output=True, text=True).stdout.strip()
    p = p if p.startswith("/") else subprocess.run(["sh", "-c", "command -v " + shlex.quote(p)],
                                                   capture_output=True, text=True).stdout.strip()
    add(p, "the compiler's " + prog) if p else None

for d in glob.glob(os.path.join(build, "**", "*.o.d"), recursive=True):
    for tok in open(d).read().replace("\\\n", " ").split():
        add(tok.rstrip(":"), "compiling " + os.path.relpath(d, build))

def lib_path(name):
    for ext in (".so", ".a"):
        p = subprocess.run([cc, "-print-file-name=lib" + name + ext], capture_output=True,
                           text=True).stdout.strip()
        if p.startswith("/"):
            return p
    return None

exes = []
for lt in glob.glob(os.path.join(build, "**", "link.txt"), recursive=True):
    words = shlex.split(open(lt).read())
    for i, w in enumerate(words):
        if w.startswith("/"):
            add(w, "linking " + os.path.relpath(lt, build))
        elif w.startswith("-l") and len(w) > 2:
            p = lib_path(w[2:])
            if p:
                add(p, "linking " + os.path.relpath(lt, build))
        if w == "-o" and i + 1 < len(words):
            exes.append(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(lt))),
                                     words[i + 1]))
for exe in exes:
    if os.path.isfile(exe) and os.access(exe, os.X_OK):
        out = subprocess.run(["ldd", exe], capture_output=True, text=True).stdout
        for m in re.finditer(r"(/\S+) \(0x", out):
            add(m.group(1), "loaded by " + os.path.relpath(exe, build))


def owners(paths):
    """dpkg -S for many paths: {path: package}."""
    found = {}
    for i in range(0, len(paths), 500):
        out = subprocess.run(["dpkg-query", "-S", *paths[i:i + 500]], capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            if line.startswith("diversion "):
                continue
            pkgs, _, path = line.partition(": ")
            if path in paths:
                found.setdefault(path, pkgs.split(",")[0].strip().split(":")[0])
    return found


def candidates(p):
    """The names dpkg may know a file by: as used, symlinks resolved, /usr merged or not."""
    out = [p, os.path.realpath(p)]
    for q in list(out):
        if q.startswith("/usr/lib/") or q.startswith("/usr/bin/") or q.startswith("/usr/sbin/"):
            out.append(q[4:])
        elif q.startswith(("/lib/", "/bin/", "/sbin/", "/lib64/")):
            out.append("/usr" + q)
    return list(dict.fromkeys(out))


files = sorted(used)
owner = {}
pending = files
for step in range(4):
    names = {f: candidates(f)[step] for f in pending if len(candidates(f)) > step}
    got = owners(sorted(set(names.values())))
    for f, n in names.items():
        if n in got:
            owner[f] = got[n]
    pending = [f for f in pending if f not in owner]

bad = 0
for f in pending:
    print(f"check-build-deps: {f} ({used[f]}) belongs to no Debian package", file=sys.stderr)
    bad += 1
by_pkg = {}
for f, p in owner.items():
    by_pkg.setdefault(p, f)
for p, f in sorted(by_pkg.items()):
    if p not in allowed:
        print(f"check-build-deps: {f} ({used[f]}) comes from package {p}, which "
              "scripts/install-deps.sh (without --test) does not install", file=sys.stderr)
        bad += 1
print(f"check-build-deps: {len(files)} files used by the build, from {len(by_pkg)} packages: "
      + ("all installed by scripts/install-deps.sh" if not bad else f"{bad} problems"))
sys.exit(1 if bad else 0)
PY
