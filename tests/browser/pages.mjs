// pages.mjs - open PyScope's HTML pages in Debian's chromium (playwright-core over CDP)
// and check what a person would see. Run by tests/integration/test_html_pages.sh:
//
//   node pages.mjs CONFIG.json
//
// CONFIG: {"shots": DIR, "pages": [{"name", "url", "hostile": bool, "scripts": N}],
//          "base": "http://127.0.0.1:PORT/" | null, "controls": [{"name", "url"}]}
//
// For every page, at 1400 px and at 800 px wide: it loads (HTTP 200 when served), no
// console error and no uncaught exception, no request other than the page itself (the
// CSP forbids them; a refused one is a console error too), no dialog (an XSS payload that
// ran would open one), no element an attack could add (img, iframe, object, embed, a
// script beyond the page's own N, an on* attribute), the hostile strings shown as text,
// no horizontal overflow (document scrollWidth against the viewport), no table clipped
// inside its own scroll box (.table-wrap's scrollWidth against its clientWidth), and a full-page
// screenshot in DIR. Served pages are then navigated as a person would: the navigation
// bar, a batch, a series from the report, a metric tab. Prints "ok - NAME" / "not ok -
// NAME: WHY" lines and "N passed, M failed"; exits 1 on any failure.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
let passed = 0;
let failed = 0;
function check(name, cond, why) {
    if (cond) {
        passed++;
        console.log(`ok - ${name}`);
    } else {
        failed++;
        console.log(`not ok - ${name}: ${why}`);
    }
}

const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--disable-dev-shm-usage'],
});

// A fresh context and page that records what a page does wrong.
async function watchedPage(width) {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    const seen = { errors: [], requests: [], dialogs: [] };
    page.on('console', (m) => {
        if (m.type() === 'error') seen.errors.push(m.text());
    });
    page.on('pageerror', (e) => seen.errors.push(`uncaught: ${e.message}`));
    page.on('dialog', async (d) => {
        seen.dialogs.push(d.message());
        await d.dismiss();
    });
    page.on('request', (r) => seen.requests.push(r.url()));
    return { context, page, seen };
}

// The requests that were not the page itself or a page of the same server.
function external(seen, url) {
    const origin = url.startsWith('http') ? new URL(url).origin : null;
    return seen.requests.filter((r) => {
        if (r.startsWith('data:')) return false;
        if (origin) return new URL(r).origin !== origin;
        return r !== url;
    });
}

async function inspect(page, ownScripts) {
    return page.evaluate((own) => {
        const bad = [];
        for (const tag of ['img', 'iframe', 'object', 'embed', 'frame', 'form', 'base', 'link']) {
            const n = document.getElementsByTagName(tag).length;
            if (n) bad.push(`${n} <${tag}>`);
        }
        const scripts = document.getElementsByTagName('script').length;
        if (scripts !== own) bad.push(`${scripts} <script>, expected ${own}`);
        for (const e of document.querySelectorAll('*')) {
            for (const a of e.attributes) {
                if (a.name.startsWith('on')) bad.push(`${e.tagName} with ${a.name}`);
                if (/^\s*javascript:/i.test(a.value)) bad.push(`${e.tagName} ${a.name}=javascript:`);
            }
        }
        const doc = document.scrollingElement || document.documentElement;
        const main = document.querySelector('main');
        // content clipped inside a table's own scroll box (.table-wrap, overflow-x: auto)
        // is hidden as surely as content past the viewport
        const boxes = [];
        for (const w of document.querySelectorAll('.table-wrap')) {
            const over = w.scrollWidth - w.clientWidth;
            if (over > 1) {
                const sec = w.closest('section[id], [id]');
                boxes.push(`${sec ? '#' + sec.id : 'a table'} by ${over} px`);
            }
        }
        return {
            bad,
            boxes,
            overflow: doc.scrollWidth - window.innerWidth,
            mainRight: main ? main.getBoundingClientRect().right - window.innerWidth : 0,
            text: document.body.textContent,
            jsError: document.documentElement.getAttribute('data-js-error'),
            xss: window.__pyscope_xss || null,
        };
    }, ownScripts);
}

const PAYLOAD_TEXT = ['<script>alert(1)</script>'];

// The checks themselves: a page made to overflow and to carry an injected element
// (CONFIG "controls") must be caught, or the checks above could not fail.
for (const c of config.controls || []) {
    const { context, page } = await watchedPage(800);
    await page.goto(c.url, { waitUntil: 'load' });
    const r = await inspect(page, 0);
    check(`control ${c.name}: an overflowing page is caught`, r.overflow > 1, `overflow ${r.overflow}`);
    check(`control ${c.name}: an injected element is caught`, r.bad.length > 0, 'nothing found');
    check(`control ${c.name}: a table clipped in its scroll box is caught`, r.boxes.length > 0,
        'no box overflow found');
    await context.close();
}

for (const p of config.pages) {
    for (const width of [1400, 800]) {
        const name = `${p.name} @${width}px`;
        const { context, page, seen } = await watchedPage(width);
        let status = 0;
        try {
            const resp = await page.goto(p.url, { waitUntil: 'load', timeout: 30000 });
            status = resp ? resp.status() : 0;
        } catch (e) {
            check(`${name}: loads`, false, e.message);
            await context.close();
            continue;
        }
        if (p.url.startsWith('http')) check(`${name}: HTTP 200`, status === 200, `got ${status}`);
        if (p.scripts) {
            await page.waitForFunction(() => document.documentElement.hasAttribute('data-ready'),
                null, { timeout: 15000 }).catch(() => {});
        }
        const r = await inspect(page, p.scripts || 0);
        check(`${name}: no console error`, seen.errors.length === 0, seen.errors.join(' | '));
        check(`${name}: no script error`, !r.jsError, 'the page flagged a script error');
        const ext = external(seen, p.url);
        check(`${name}: no external request`, ext.length === 0, ext.join(' '));
        check(`${name}: no dialog (no payload ran)`, seen.dialogs.length === 0 && !r.xss,
            seen.dialogs.join(' | '));
        check(`${name}: no injected element or handler`, r.bad.length === 0, r.bad.join(', '));
        if (p.hostile) {
            for (const t of PAYLOAD_TEXT)
                check(`${name}: payload shown as text`, r.text.includes(t), `"${t}" not in the text`);
        }
        check(`${name}: no horizontal overflow`, r.overflow <= 1 && r.mainRight <= 1,
            `scrollWidth exceeds the viewport by ${r.overflow} px (main by ${r.mainRight})`);
        check(`${name}: no table clipped in its scroll box`, r.boxes.length === 0,
            `scrollWidth > clientWidth: ${r.boxes.join(', ')}`);
        await page.screenshot({ path: `${config.shots}/${p.name}-${width}.png`, fullPage: true });
        await context.close();
    }
}

// A folded detail opens; the flame graph diff inside it is drawn.
const team = config.pages.find((p) => p.name === 'team-report');
if (team) {
    const { context, page, seen } = await watchedPage(1400);
    await page.goto(team.url);
    const li = page.locator('li.change.regression').first();
    await li.locator('summary').click();
    check('team report: a click opens the details', await li.locator('details').evaluate((d) => d.open),
        'details still closed');
    check('team report: the flame graph diff is drawn',
        (await li.locator('figure.fdiff rect').count()) > 1, 'no rect in figure.fdiff');
    const title = await li.locator('span.name.script').getAttribute('title');
    check('team report: a long name has its whole text on hover', !!title && title.length > 0, 'no title');
    check('team report: no console error after clicking', seen.errors.length === 0, seen.errors.join(' | '));
    await context.close();
}

// Served: navigate as a person would.
if (config.base) {
    const { context, page, seen } = await watchedPage(1400);
    const base = config.base;
    await page.goto(base);
    const h1 = async () => (await page.locator('h1').textContent()).trim();
    check('navigation: / is the team report', (await h1()).includes('team report'), await h1());
    await page.locator('nav.site a', { hasText: 'Batches' }).click();
    await page.waitForURL(`${base}batches`);
    check('navigation: Batches', (await h1()).includes('batches'), await h1());
    await page.locator('#batch-table a').first().click();
    await page.waitForURL(/\/batch\/[0-9]+$/);
    check('navigation: a batch opens its report', (await h1()).includes('team report'), page.url());
    await page.locator('nav.site a', { hasText: 'Hosts' }).click();
    await page.waitForURL(`${base}hosts`);
    check('navigation: Hosts', (await page.locator('#hardware-matrix').count()) === 1, page.url());
    await page.locator('nav.site a', { hasText: 'Latest report' }).click();
    await page.waitForURL(base);
    await page.locator('li.change.regression a').first().click();
    await page.waitForURL(/\/series\//);
    check('navigation: a regressed series opens its history',
        (await page.locator('svg.chart').count()) === 1, page.url());
    await page.locator('nav.tabs a', { hasText: 'CPU time' }).click();
    await page.waitForURL(/metric=cpu_s/);
    check('navigation: the CPU time tab',
        (await page.locator('svg.chart').getAttribute('aria-label')) === 'median CPU time per run',
        page.url());
    await page.goBack();
    await page.waitForURL((u) => !u.search.includes('metric='));
    check('navigation: back', (await page.locator('nav.tabs a[aria-current]').textContent()) === 'Wall time',
        page.url());
    check('navigation: no console error on the way', seen.errors.length === 0, seen.errors.join(' | '));
    check('navigation: no external request on the way', external(seen, base).length === 0,
        external(seen, base).join(' '));
    await context.close();
}

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
