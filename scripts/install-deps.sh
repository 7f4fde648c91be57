#!/usr/bin/env bash
# install-deps.sh - install the Debian 12 packages PyScope builds, runs and tests with.
#
#   scripts/install-deps.sh            build and run dependencies
#   scripts/install-deps.sh --test     also what the test suite needs
#   scripts/install-deps.sh --list     print the packages (one a line), install nothing
#                                      (with --test: both lists)
#
# Installs only what is missing; needs root (or sudo) when something is. The build needs
# nothing beyond the first list: tests/check-build-deps.sh proves it in CI.
set -euo pipefail
test=0 list=0
for a in "$@"; do
    case $a in
    --test) test=1 ;;
    --list) list=1 ;;
    *) echo "install-deps: unknown option \"$a\" (usage: install-deps.sh [--test] [--list])" >&2; exit 2 ;;
    esac
done

# python3: the `python3` that pyscope run profiles by default (the first on PATH)
pkgs=(build-essential cmake pkg-config python3.11 python3 libpython3.11-dev
      libjansson-dev libsodium-dev uuid-dev
      libzmq3-dev libprotobuf-c-dev protobuf-c-compiler libpq-dev libinih-dev
      git # commits are resolved, fetched and checked out with it (docs/revisions.md)
      libmicrohttpd-dev
      help2man) # the manual pages (docs/man/)
if [ "$test" = 1 ]; then
    pkgs+=(libcmocka-dev valgrind clang chromium python3-scipy postgresql iproute2)
    pkgs+=(clang-format) # tests/run.sh checks the C sources' format
    pkgs+=(curl)         # the tests of the coordinator's web pages fetch them
fi
if [ "$list" = 1 ]; then
    printf '%s\n' "${pkgs[@]}"
    exit 0
fi

# The browser tests drive chromium with playwright-core from npm (tests/browser/,
# package-lock.json), installed into tests/browser/node_modules; without node/npm
# (Debian's nodejs and npm as a fallback) test_html_pages is skipped.
if [ "$test" = 1 ] && ! command -v npm >/dev/null; then
    pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The unprivileged user an agent running as root gives its jobs (agent/sandbox.h,
# docs/security.md); the tests run agents as root when they can.
if [ "$test" = 1 ] && [ "$(id -u)" -eq 0 ] && ! id pyscope-job >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin pyscope-job
fi
browser_deps() {
    local dir
    dir=$(cd "$(dirname "$0")/.." && pwd)/tests/browser
    [ "$test" = 1 ] && command -v npm >/dev/null || return 0
    [ -f "$dir/node_modules/playwright-core/package.json" ] &&
        [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] && return 0
    echo "install-deps: installing the browser tests' npm packages (tests/browser)" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
        echo "install-deps: npm ci failed in $dir: test_html_pages will be skipped" >&2
}
if [ ${#missing[@]} -eq 0 ]; then
    browser_deps
    exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh them once if an install fails.
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
    $sudo apt-get update -q >/dev/null
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}
browser_deps
