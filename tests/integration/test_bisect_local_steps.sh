#!/usr/bin/env bash
# test_bisect_local_steps.sh - how the local `pyscope bisect` (cli/bisect.c) moves from step
# to step and when it names a culprit, decided on peak memory (--metric peak_rss_bytes):
# real runs of a real script, whose memory is all but exact, so that every verdict is known
# in advance. bench/m.py allocates the megabytes its commit's bench/cfg.txt says (20 before
# the culprit, 60 from it on); a counter per commit (outside the read-only trees) lets a
# commit be noisy (one turn of two runs in six allocates 150 MB), wobble (its turns
# allocate 10% less and 10% more in turn: every A/B of it stays open) or change its mind (the
# first 12 runs at 60 MB, then 21).
#
# Ranges of 1 and 3 commits, the culprit at every position: named, with as evidence an
# A/B of it against its own parent; a culprit whose parent is GOOD is named from the step
# that measured it against GOOD (no second A/B of the same pair), at most ceil(log2 N)
# halving steps. A noisy parent: the confirmation names the culprit (a trimmed mean of
# the pairs drops the noisy turn). A wobbling parent and a culprit that changed its mind:
# the confirmation is open on its own, nearer the good end: the culprit is rejected.
# Not in the ASan run (tests/run.sh): it is ~26 A/Bs of the same code paths that
# test_bisect_local.sh drives under ASan, and it took 100 s of that run's time.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
command -v git >/dev/null || skip "no git (apt-get install git)"
export XDG_CACHE_HOME="$T/cache" GIT_CONFIG_NOSYSTEM=1 HOME="$T" PYSCOPE_TEST_COUNTERS="$T/counters"
export GIT_AUTHOR_NAME="Ada Lovelace" GIT_AUTHOR_EMAIL=ada@example.org
export GIT_COMMITTER_NAME="Ada Lovelace" GIT_COMMITTER_EMAIL=ada@example.org

# repo N CFG...: a fresh repository in $REPO, commit 0 (GOOD: 20 MB, plain) then commits
# 1..N whose bench/cfg.txt is CFG[i] ("SIZE_MB MODE [ARGS]"); their hashes in $T/hashes
repo() {
    local n=$1 i
    shift
    REPO=$T/repo$RANDOM
    rm -rf "$PYSCOPE_TEST_COUNTERS"
    mkdir -p "$REPO/bench" "$PYSCOPE_TEST_COUNTERS"
    cat >"$REPO/bench/m.py" <<'PYM'
import os
here = os.path.dirname(os.path.abspath(__file__))
size, mode, *arg = open(os.path.join(here, "cfg.txt")).read().split()
size = int(size)
if mode != "plain":  # count this commit's runs, outside the read-only tree
    tag = open(os.path.join(here, "tag.txt")).read().strip()
    with open(os.path.join(os.environ["PYSCOPE_TEST_COUNTERS"], tag), "a+") as f:
        f.seek(0)
        k = len(f.read())
        f.write("x")
    if mode == "noisy" and (k // 2) % 6 == 0:  # one turn (2 runs: --repeat 2) in six
        size = 150
    if mode == "wobbly":  # turns of 2 runs: 10% less, 10% more, in turn
        size = size * (9 if (k // 2) % 2 == 0 else 11) // 10
    if mode == "fast_after" and k >= int(arg[0]):
        size = int(arg[1])
data = b"\x01" * (size << 20)
PYM
    echo "20 plain" >"$REPO/bench/cfg.txt"
    echo c0 >"$REPO/bench/tag.txt"
    git -C "$REPO" init -q -b main
    git -C "$REPO" add -A
    git -C "$REPO" commit -q -m "Commit 0"
    git -C "$REPO" rev-parse HEAD >"$T/hashes"
    for i in $(seq "$n"); do
        echo "$1" >"$REPO/bench/cfg.txt"
        echo "c$i" >"$REPO/bench/tag.txt"
        shift
        git -C "$REPO" commit -q -am "Commit $i"
        git -C "$REPO" rev-parse HEAD >>"$T/hashes"
    done
}
H() { sed -n "$(($1 + 1))p" "$T/hashes"; } # commit number -> hash
bisect() { # N [OPTIONS]: bisect commit 0 .. N of $REPO, its JSON in $OUT
    local n=$1
    shift
    capture "$PYSCOPE" bisect --repo "$REPO" --good "$(H 0)" --bad "$(H "$n")" \
        --metric peak_rss_bytes --repeat 2 --json -q "$@" "$REPO/bench/m.py"
}
rss() { # the evidence's peak memory verdict object, field $1
    echo "$OUT" | sed -n '/^{/,$p' | json_get "[m for m in d['evidence']['metrics'] if m['metric'] == 'peak_rss_bytes' and not m.get('function')][0]['$1']"
}
rss_verdict() { rss verdict; }
rss_rule() { rss rule; }
summary() { # the steps of $OUT as "POSITION:OUTCOME ..."
    echo "$OUT" | sed -n '/^{/,$p' | json_get "' '.join('%d:%s' % (s['position'], s['outcome']) for s in d['steps'])"
}

# every culprit of ranges of 1 and 3 commits (3: the culprit's parent GOOD, in the middle,
# the last; a range of 2 adds no case). One run a turn: plain commits' memory is exact.
for n in 1 3; do
    for c in $(seq "$n"); do
        cfgs=()
        for i in $(seq "$n"); do
            if [ "$i" -lt "$c" ]; then cfgs+=("20 plain"); else cfgs+=("60 plain"); fi
        done
        repo "$n" "${cfgs[@]}"
        bisect "$n" --rounds 3 --max-rounds 3 --repeat 1
        what="range of $n commit(s), culprit $c (steps $(summary))"
        expect_eq "$what: found, exit 0" "0 found $(H "$c")" \
            "$RC $(echo "$OUT" | sed -n '/^{/,$p' | json_get "d['status'] + ' ' + (d['culprit'] or {}).get('hash', '-')")"
        expect_eq "$what: the evidence, a regression of peak memory" "regression" "$(rss_verdict)"
        if [ "$c" = 1 ]; then
            expect_match "$what: the culprit's parent is GOOD: its step against GOOD is the evidence, no confirmation" \
                "^against its parent \\(the good end\\), measured by the step that found it bad no$" \
                "$(echo "$OUT" | sed -n '/^{/,$p' | json_get "d['evidence_of'].replace('the first bad commit ', '') + ' ' + ('yes' if any(s['outcome'] == 'confirmed' for s in d['steps']) else 'no')")"
        else
            expect_eq "$what: confirmed against its parent, the last step" "$c:confirmed" \
                "$(summary | tr ' ' '\n' | tail -1)"
        fi
        expect_eq "$what: the ends, at most ceil(log2 $n) halving steps, at most one confirmation" ok \
            "$(echo "$OUT" | sed -n '/^{/,$p' | json_get "'ok' if len(d['steps']) <= 1 + __import__('math').ceil(__import__('math').log2($n)) + ($c > 1) else 'too many'")"
    done
done

# the confirmation inside the noise floor: commit 2 is the culprit, its parent 1 noisy
repo 3 "20 noisy" "60 plain" "60 plain"
bisect 3 --rounds 6 --max-rounds 6
expect_eq "noisy parent, nearer the bad end: the steps" "3:bad 1:good 2:bad 2:confirmed" "$(summary)"
expect_eq "noisy parent, nearer the bad end: found commit 2, exit 0" "0 found $(H 2)" \
    "$RC $(echo "$OUT" | sed -n '/^{/,$p' | json_get "d['status'] + ' ' + (d['culprit'] or {}).get('hash', '-')")"
expect_match "noisy parent: the confirmation a regression of the pairs (the noisy turn trimmed)" \
    "^regression significant the culprit against its parent$" \
    "$(rss_verdict) $(rss_rule) $(echo "$OUT" | sed -n '/^{/,$p' | json_get "d['steps'][-1]['reason']")"

# ... nearer the good end: commit 2 slow for the 18 runs of its step, then not
repo 3 "20 wobbly" "60 fast_after 12 21" "60 plain"
bisect 3 --rounds 6 --max-rounds 6
expect_eq "nearer the good end: the steps, the culprit rejected" "3:bad 1:good 2:bad 2:rejected" "$(summary)"
expect_eq "nearer the good end: inconclusive, nothing named, exit 1" "1 inconclusive None" \
    "$RC $(echo "$OUT" | sed -n '/^{/,$p' | json_get "d['status'] + ' ' + str(d['culprit'])")"
expect_match "nearer the good end: said" \
    "^Inconclusive: the steps point at $(H 2 | cut -c1-12), but against its parent it resembles the good end \\([+-][0-9.]+%, open on its own, but (its interval [+-][0-9.]+% \\.\\. [+-][0-9.]+% lies wholly below half the ends' change \\([+][0-9.]+%, interval [^)]*\\)|its [+-][0-9.]+% over [0-9]+ pairs \\(interval [^)]*\\) is at least [0-9.e+]+ times likelier if the commit made no change than if it made the ends' change \\([^)]*\\)): nearer the good end\\): rejected; not named" \
    "$(echo "$OUT" | sed -n '/^{/,$p' | json_get "d['message']")"
finish
