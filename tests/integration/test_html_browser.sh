#!/usr/bin/env bash
# test_html_browser.sh - open the HTML report in headless chromium.
#
# Renders the fixtures in tests/data/report-*.json with the render_report helper,
# loads each page with --dump-dom and checks that the scripts ran (data-ready),
# raised no error (the page shows errors in #js-errors; the console log is
# grepped too), that the Content-Security-Policy refused nothing (the page makes
# no request), that hostile strings stay text, and that the flame graph zooms,
# resets, shows its tooltip and that tables sort (a test script appended to a
# copy of the page clicks around and writes its results into the DOM). Takes
# screenshots (light and dark) into $PYSCOPE_BUILD/tests/html-shots/ for people
# to look at.
#
# Needs Debian's chromium (scripts/install-deps.sh --test installs it); skipped without it.
source "$(dirname "$0")/lib.sh"

RENDER="$PYSCOPE_BUILD/tests/render_report"
DATA="$PYSCOPE_SRC/tests/data"
SHOTS="$PYSCOPE_BUILD/tests/html-shots"

command -v chromium >/dev/null 2>&1 ||
    skip "chromium is not installed (run scripts/install-deps.sh --test)"
[ -x "$RENDER" ] || { fail "render_report" "not built: $RENDER"; finish; exit 1; }

# chrome ARGS...: headless chromium, isolated profile, no network services.
chrome() {
    local profile
    profile=$(mktemp -d "$T/profile.XXXXXX")
    timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-dev-shm-usage --user-data-dir="$profile" "$@"
}

# dom PAGE NAME: dump the DOM after load into $T/NAME.dom, console log into $T/NAME.log.
dom() {
    chrome --enable-logging=stderr --v=0 --virtual-time-budget=3000 --dump-dom \
        "file://$1" >"$T/$2.dom" 2>"$T/$2.log" || true
}

# check_page NAME: the common checks on a dumped page.
check_page() {
    local name=$1 d l
    d=$(cat "$T/$name.dom")
    l=$(cat "$T/$name.log")
    expect_match "$name: scripts ran" '<html lang="en" data-ready="1"' "$d"
    expect_nomatch "$name: no script error flag" 'data-js-error="1"' "$d"
    expect_match "$name: error box empty" '<pre id="js-errors" hidden=""></pre>' "$d"
    expect_nomatch "$name: no console errors" 'Uncaught|CONSOLE\([0-9]+\)\] "[^"]*Error' "$l"
    expect_nomatch "$name: csp refused nothing" 'Refused to' "$l"
}

mkdir -p "$SHOTS"
for fixture in sample trace hostile malformed small; do
    json="$DATA/report-$fixture.json"
    page="$T/$fixture.html"
    if ! "$RENDER" html "$json" "$page" 2>"$T/render.err"; then
        fail "$fixture: render" "$(cat "$T/render.err")"
        continue
    fi
    dom "$page" "$fixture"
    check_page "$fixture"
done

# The flame graph drew frames, and the tables are there, filled in.
d=$(cat "$T/sample.dom")
expect_match "sample: flame graph drawn" 'id="flame-box" class="flame" data-nodes="[1-9][0-9]*"' "$d"
expect_match "sample: flame frames labelled" 'class="fl"[^>]*>load_rows<' "$d"
expect_match "sample: thread selector filled" '<option value="1">Thread-1 \(fetch_remote\)</option>' "$d"
expect_match "sample: hotspot rows" '<div class="name">parse_line</div>' "$d"
expect_match "sample: memory chart" '<polyline class="line" points="[0-9]' "$d"
d=$(cat "$T/trace.dom")
expect_match "trace: flame graph drawn" 'data-nodes="[1-9][0-9]*"' "$d"
d=$(cat "$T/malformed.dom")
expect_match "malformed: flame graph drawn" 'data-nodes="[1-9][0-9]*"' "$d"

# Hostile strings are text, never markup: no injected element, escaped text present.
d=$(cat "$T/hostile.dom")
expect_nomatch "hostile: no injected img" '<img' "$d"
expect_nomatch "hostile: no injected script" '<script>alert' "$d"
expect_eq "hostile: only the page's scripts" 3 "$(grep -o '<script' "$T/hostile.dom" | wc -l)"
expect_match "hostile: escaped in tables" '&lt;img src=x onerror=alert\(3\)&gt;"' "$d"
expect_match "hostile: escaped in flame graph" 'class="fl[^"]*"[^>]*>&lt;img src=x onerror=alert\(3\)&gt;' "$d"
expect_match "hostile: thread option text" '<option value="0">T&lt;script&gt;alert\(1\)&lt;/script&gt;</option>' "$d"

# Interaction: a copy of the page with a test script that clicks and hovers.
cat >"$T/selftest.js" <<'EOF'
<script>
(function () {
    var out = [];
    function check(name, cond) { out.push((cond ? 'ok ' : 'FAIL ') + name); }
    try {
        var box = document.getElementById('flame-box');
        var reset = document.getElementById('flame-reset');
        var info = document.getElementById('flame-info');
        var all = Number(box.getAttribute('data-nodes'));
        var target = null;
        box.querySelectorAll('.fl').forEach(function (e) {
            if (!target && e.pyscopeNode && e.pyscopeNode.depth === 4) { target = e; }
        });
        check('a frame to click', target !== null);
        var name = target.pyscopeNode.name;
        target.dispatchEvent(new MouseEvent('mousemove', { bubbles: true, clientX: 50, clientY: 50 }));
        var tip = document.getElementById('flame-tip');
        check('tooltip shown', !tip.hidden && tip.textContent.indexOf(name) === 0 &&
              /% of all/.test(tip.textContent) && /ms|s/.test(tip.textContent));
        target.dispatchEvent(new MouseEvent('click', { bubbles: true }));
        check('zoom enables reset', !reset.disabled);
        check('zoom info names the frame', info.textContent.indexOf('Zoomed into ' + name) === 0);
        check('zoom draws fewer frames', Number(box.getAttribute('data-nodes')) < all);
        var full = null;
        box.querySelectorAll('.fl').forEach(function (e) {
            if (e.pyscopeNode && e.pyscopeNode.name === name && e.style.left === '0%') { full = e; }
        });
        check('zoomed frame spans the width', full !== null);
        var root = null;
        box.querySelectorAll('.fl').forEach(function (e) {
            if (e.pyscopeNode && e.pyscopeNode.depth === 0) { root = e; }
        });
        check('root on top', root !== null && root.style.top === '0px');
        root.dispatchEvent(new MouseEvent('click', { bubbles: true }));
        check('click on root zooms out', reset.disabled && Number(box.getAttribute('data-nodes')) === all);
        target = box.querySelectorAll('.fl')[3];
        target.dispatchEvent(new MouseEvent('click', { bubbles: true }));
        reset.click();
        check('reset zooms out', reset.disabled && Number(box.getAttribute('data-nodes')) === all);
        var sel = document.getElementById('flame-thread');
        sel.value = '1';
        sel.dispatchEvent(new Event('change'));
        check('thread selector', box.querySelector('.fl').textContent === sel.options[sel.selectedIndex].textContent);
        var table = document.getElementById('hotspots-table');
        var th = table.tHead.rows[0].cells[2];
        th.click();
        var vals = Array.prototype.map.call(table.tBodies[0].rows, function (r) {
            return parseFloat(r.cells[2].getAttribute('data-v'));
        });
        var sorted = vals.every(function (v, i) { return i === 0 || vals[i - 1] >= v; });
        check('sort self descending', sorted && th.getAttribute('aria-sort') === 'descending');
        th.click();
        vals = Array.prototype.map.call(table.tBodies[0].rows, function (r) {
            return parseFloat(r.cells[2].getAttribute('data-v'));
        });
        check('sort self ascending', vals.every(function (v, i) { return i === 0 || vals[i - 1] <= v; }));
        table.tHead.rows[0].cells[0].click();
        var first = table.tBodies[0].rows[0].cells[0].textContent.toLowerCase();
        var second = table.tBodies[0].rows[1].cells[0].textContent.toLowerCase();
        check('sort by name', first <= second);
    } catch (e) {
        out.push('FAIL exception ' + e.message);
    }
    document.body.setAttribute('data-selftest', out.join('|'));
})();
</script>
EOF
# insert the test script just before </body>; the page allows its own scripts by hash
# only (lib/html_page.c), so the copy's policy lets inline scripts run
awk -v f="$T/selftest.js" '/^<\/body>$/ { while ((getline line < f) > 0) print line } { print }' \
    "$T/sample.html" | sed "s/script-src [^;\"]*/script-src 'unsafe-inline'/" >"$T/selftest.html"
dom "$T/selftest.html" selftest
check_page selftest
results=$(grep -o 'data-selftest="[^"]*"' "$T/selftest.dom" || true)
expect_match "selftest ran" 'data-selftest="ok ' "$results"
expect_nomatch "selftest passed" 'FAIL' "$results"
echo "$results" | tr '|' '\n' | sed 's/^/  # /'

# The error detector itself works: a page whose script throws is flagged.
awk '/^<\/body>$/ { print "<script>throw new Error(\"boom\");</script>" } { print }' \
    "$T/small.html" | sed "s/script-src [^;\"]*/script-src 'unsafe-inline'/" >"$T/throws.html"
dom "$T/throws.html" throws
expect_match "error detector: flag" 'data-js-error="1"' "$(cat "$T/throws.dom")"
expect_match "error detector: message" 'script error: [^<]*boom' "$(cat "$T/throws.dom")"

# Screenshots for people (light and dark); they must exist and not be blank.
cp "$T/sample.html" "$SHOTS/report-sample.html"
chrome --hide-scrollbars --window-size=1280,3400 --screenshot="$SHOTS/sample-light.png" \
    "file://$T/sample.html" >/dev/null 2>&1 || true
chrome --hide-scrollbars --window-size=1280,3400 --force-dark-mode \
    --blink-settings=preferredColorScheme=0 --screenshot="$SHOTS/sample-dark.png" \
    "file://$T/sample.html" >/dev/null 2>&1 || true
chrome --hide-scrollbars --window-size=1280,2600 --screenshot="$SHOTS/hostile.png" \
    "file://$T/hostile.html" >/dev/null 2>&1 || true
for shot in sample-light sample-dark hostile; do
    size=$(stat -c %s "$SHOTS/$shot.png" 2>/dev/null || echo 0)
    if [ "$size" -gt 20000 ]; then ok "screenshot $shot ($size bytes)"; else
        fail "screenshot $shot" "missing or blank ($size bytes)"; fi
done
echo "screenshots in $SHOTS"
finish
