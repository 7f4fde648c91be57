/*
 * report.js - the interactive parts of PyScope's HTML report (embedded at build time).
 *
 * Flame graph data: {unit_s: seconds per sample (0 = unknown), runs: measured runs
 * the samples are summed over, threads: [name], frames: [[name, file, line]],
 * stacks: [[thread, samples, shared, frame...]]}: a row repeats none of the
 * first `shared` frames of the previous row (rows are sorted so that neighbours
 * share long prefixes).
 *
 * Sortable tables and the flame graph. Data comes from the JSON data element
 * (id "data"); the DOM is built with createElement/textContent only, never from
 * markup strings. When everything is set up, the root element gets
 * data-ready="1" (the browser test waits for it). The page embeds this file in a
 * script element: it must never contain a less-than sign followed by a slash.
 */
(function () {
    'use strict';

    var ROW = 18; /* px per flame graph level */

    function byId(id) {
        return document.getElementById(id);
    }

    function make(tag, cls, text) {
        var e = document.createElement(tag);
        if (cls) {
            e.className = cls;
        }
        if (text !== undefined && text !== null) {
            e.textContent = String(text);
        }
        return e;
    }

    function fmtTime(s) {
        if (typeof s !== 'number' || !isFinite(s)) {
            return '?';
        }
        var a = Math.abs(s);
        if (a === 0) {
            return '0 s';
        }
        if (a >= 100) {
            return s.toFixed(0) + ' s';
        }
        if (a >= 1) {
            return s.toFixed(3) + ' s';
        }
        if (a >= 1e-3) {
            return (s * 1e3).toFixed(a >= 0.1 ? 0 : a >= 0.01 ? 1 : 2) + ' ms';
        }
        return (s * 1e6).toFixed(1) + ' \u00b5s';
    }

    function fmtPct(p) {
        if (!isFinite(p)) {
            return '?';
        }
        return (p >= 10 ? p.toFixed(1) : p.toFixed(2)) + '%';
    }

    /* ---- sortable tables ---------------------------------------------- */

    function sortKey(cell, numeric) {
        if (!cell) {
            return numeric ? NaN : '';
        }
        if (numeric) {
            var v = cell.getAttribute('data-v');
            return v === null || v === '' ? NaN : parseFloat(v);
        }
        return cell.textContent.toLowerCase();
    }

    function sortTable(table, th, col) {
        var numeric = th.getAttribute('data-type') === 'num';
        var cur = th.getAttribute('aria-sort');
        var dir;
        if (cur === 'descending') {
            dir = 1;
        } else if (cur === 'ascending') {
            dir = -1;
        } else {
            dir = numeric ? -1 : 1;
        }
        var heads = table.tHead.rows[0].cells;
        for (var i = 0; i < heads.length; i++) {
            heads[i].removeAttribute('aria-sort');
        }
        th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.forEach(function (r, k) {
            r.pyscopeIndex = k;
        });
        rows.sort(function (a, b) {
            var x = sortKey(a.cells[col], numeric);
            var y = sortKey(b.cells[col], numeric);
            if (numeric) {
                var xn = isNaN(x), yn = isNaN(y);
                if (xn || yn) {
                    /* missing values last, whatever the direction */
                    return xn === yn ? a.pyscopeIndex - b.pyscopeIndex : (xn ? 1 : -1);
                }
            }
            if (x < y) {
                return -dir;
            }
            if (x > y) {
                return dir;
            }
            return a.pyscopeIndex - b.pyscopeIndex;
        });
        rows.forEach(function (r) {
            body.appendChild(r);
        });
    }

    function setupSorting() {
        var tables = document.querySelectorAll('table.sortable');
        Array.prototype.forEach.call(tables, function (table) {
            if (!table.tHead || !table.tHead.rows.length || !table.tBodies.length) {
                return;
            }
            var heads = table.tHead.rows[0].cells;
            Array.prototype.forEach.call(heads, function (th, col) {
                th.tabIndex = 0;
                th.title = 'Sort by this column';
                th.addEventListener('click', function () {
                    sortTable(table, th, col);
                });
                th.addEventListener('keydown', function (e) {
                    if (e.key === 'Enter' || e.key === ' ') {
                        e.preventDefault();
                        sortTable(table, th, col);
                    }
                });
            });
        });
    }

    /* ---- flame graph ---------------------------------------------------- */

    function hashString(s) {
        var h = 2166136261;
        for (var i = 0; i < s.length; i++) {
            h ^= s.charCodeAt(i);
            h = Math.imul(h, 16777619);
        }
        return h >>> 0;
    }

    function colour(node) {
        if (node.kind === 'root') {
            return 'hsl(220, 12%, 72%)';
        }
        if (node.kind === 'thread') {
            return 'hsl(200, 45%, 70%)';
        }
        var h = hashString(node.name + '\u0000' + node.file);
        var hue = h % 55;           /* red .. yellow, like flamegraph.pl */
        var light = 58 + ((h >>> 8) % 14);
        if (node.file === '~' || node.file === '') {
            hue = 95;               /* built-ins: green */
        }
        return 'hsl(' + hue + ', 78%, ' + light + '%)';
    }

    function Flame(d) {
        this.frames = Array.isArray(d.frames) ? d.frames : [];
        this.stacks = Array.isArray(d.stacks) ? d.stacks : [];
        this.threads = Array.isArray(d.threads) ? d.threads : [];
        this.unit = typeof d.unit_s === 'number' && d.unit_s > 0 ? d.unit_s : 0;
        this.runs = typeof d.runs === 'number' && d.runs >= 1 ? d.runs : 1;
        this.box = byId('flame-box');
        this.tip = byId('flame-tip');
        this.select = byId('flame-thread');
        this.reset = byId('flame-reset');
        this.info = byId('flame-info');
        this.root = null;
        this.focus = null;
        this.drawn = 0;
    }

    Flame.prototype.frameInfo = function (i) {
        var f = this.frames[i];
        if (!Array.isArray(f)) {
            return { name: '?', file: '', line: 0 };
        }
        return {
            name: typeof f[0] === 'string' ? f[0] : '?',
            file: typeof f[1] === 'string' ? f[1] : '',
            line: typeof f[2] === 'number' ? f[2] : 0
        };
    };

    function child(parent, key, make_info) {
        var c = parent.map.get(key);
        if (!c) {
            var info = make_info();
            c = {
                name: info.name, file: info.file, line: info.line, kind: info.kind || 'frame',
                value: 0, self: 0, kids: [], map: new Map(), parent: parent,
                depth: parent.depth + 1, x: 0
            };
            parent.map.set(key, c);
            parent.kids.push(c);
        }
        return c;
    }

    Flame.prototype.build = function (thread) {
        var self = this;
        var perThread = thread < 0 && this.threads.length > 1;
        var rootName = 'all';
        if (thread >= 0) {
            rootName = String(this.threads[thread]);
        } else if (perThread) {
            rootName = 'all threads';
        }
        var root = {
            name: rootName, file: '', line: 0, kind: 'root', value: 0, self: 0, kids: [],
            map: new Map(), parent: null, depth: 0, x: 0
        };
        var prev = [];
        this.stacks.forEach(function (s) {
            if (!Array.isArray(s) || s.length < 3) {
                return;
            }
            /* [thread, samples, shared, frames...]: the first `shared` frames are the
             * previous row's */
            var t = s[0], v = s[1];
            var shared = typeof s[2] === 'number' ? Math.max(0, Math.min(s[2], prev.length)) : 0;
            var frames = prev.slice(0, shared).concat(s.slice(3));
            prev = frames;
            if (typeof v !== 'number' || !(v > 0) || (thread >= 0 && t !== thread)) {
                return;
            }
            var n = root;
            n.value += v;
            if (perThread) {
                n = child(n, 't' + t, function () {
                    var name = typeof self.threads[t] === 'string' ? self.threads[t] : '?';
                    return { name: name, file: '', line: 0, kind: 'thread' };
                });
                n.value += v;
            }
            for (var j = 0; j < frames.length; j++) {
                var fi = frames[j];
                n = child(n, fi, function () {
                    return self.frameInfo(fi);
                });
                n.value += v;
            }
            n.self += v;
        });
        /* left-heavy layout: x as a fraction of the root, widest child first */
        var todo = [root];
        root.x = 0;
        while (todo.length) {
            var n = todo.pop();
            n.kids.sort(function (a, b) {
                return b.value - a.value;
            });
            var x = n.x;
            for (var k = 0; k < n.kids.length; k++) {
                var c = n.kids[k];
                c.x = x;
                x += root.value > 0 ? c.value / root.value : 0;
                todo.push(c);
            }
        }
        this.root = root;
        this.focus = root;
    };

    Flame.prototype.width = function (n) {
        return this.root.value > 0 ? n.value / this.root.value : 0;
    };

    Flame.prototype.render = function () {
        var box = this.box;
        var W = box.clientWidth || 1000;
        var f = this.focus;
        var fw = this.width(f);
        var out = [];
        var maxDepth = 0;
        var a;
        /* the focus and its ancestors span the whole width */
        for (a = f; a; a = a.parent) {
            out.push({ n: a, x: 0, w: 1, dim: a !== f });
        }
        var todo = f.kids.slice();
        while (todo.length && fw > 0) {
            var n = todo.pop();
            var w = this.width(n) / fw;
            if (w * W < 0.6) {
                continue;
            }
            out.push({ n: n, x: (n.x - f.x) / fw, w: w, dim: false });
            for (var k = 0; k < n.kids.length; k++) {
                todo.push(n.kids[k]);
            }
        }
        var frag = document.createDocumentFragment();
        for (var i = 0; i < out.length; i++) {
            var o = out[i];
            if (o.n.depth > maxDepth) {
                maxDepth = o.n.depth;
            }
            var px = o.w * W;
            var e = make('div', o.dim ? 'fl dim' : 'fl', px > 28 ? this.label(o.n) : '');
            e.style.left = (o.x * 100) + '%';
            e.style.width = 'max(' + (o.w * 100) + '% - 1px, 1px)';
            e.style.top = (o.n.depth * ROW) + 'px';
            e.style.backgroundColor = colour(o.n);
            e.pyscopeNode = o.n;
            frag.appendChild(e);
        }
        box.replaceChildren(frag);
        box.style.height = ((maxDepth + 1) * ROW + 2) + 'px';
        this.drawn = out.length;
        box.setAttribute('data-nodes', String(out.length));
        this.reset.disabled = f === this.root;
        this.info.textContent = f === this.root ?
            'Click a frame to zoom in; hover for details.' :
            'Zoomed into ' + this.label(f) + ' (' + fmtPct(100 * this.width(f)) + ' of all)';
    };

    Flame.prototype.label = function (n) {
        return n.name;
    };

    Flame.prototype.amount = function (v) {
        if (this.unit > 0) {
            return fmtTime(v * this.unit / this.runs) + (this.runs > 1 ? ' per run' : '');
        }
        return String(v) + ' samples';
    };

    Flame.prototype.showTip = function (n, ev) {
        var tip = this.tip;
        var lines = [];
        var where = '';
        if (n.kind === 'frame') {
            where = n.file + (n.line > 0 ? ':' + n.line : '');
        } else if (n.kind === 'thread') {
            where = 'thread';
        }
        var total = this.root.value;
        var parentValue = n.parent ? n.parent.value : n.value;
        lines.push(['t-name', n.name]);
        if (where) {
            lines.push(['t-loc', where]);
        }
        lines.push(['', 'total: ' + this.amount(n.value) + ' \u2014 ' +
            fmtPct(total > 0 ? 100 * n.value / total : 0) + ' of all' +
            (n.parent ? ', ' + fmtPct(parentValue > 0 ? 100 * n.value / parentValue : 0) +
                ' of caller' : '')]);
        if (n.self > 0) {
            lines.push(['', 'self: ' + this.amount(n.self) + ' \u2014 ' +
                fmtPct(total > 0 ? 100 * n.self / total : 0)]);
        }
        if (this.unit > 0) {
            lines.push(['', 'samples: ' + n.value]);
        }
        var frag = document.createDocumentFragment();
        lines.forEach(function (l) {
            frag.appendChild(make('div', l[0], l[1]));
        });
        tip.replaceChildren(frag);
        tip.hidden = false;
        var x = ev.clientX + 14, y = ev.clientY + 14;
        var r = tip.getBoundingClientRect();
        if (x + r.width > window.innerWidth - 8) {
            x = Math.max(8, ev.clientX - r.width - 14);
        }
        if (y + r.height > window.innerHeight - 8) {
            y = Math.max(8, ev.clientY - r.height - 14);
        }
        tip.style.left = x + 'px';
        tip.style.top = y + 'px';
    };

    Flame.prototype.setup = function () {
        var self = this;
        if (!this.box) {
            return;
        }
        if (!this.stacks.length) {
            this.box.replaceChildren(make('p', 'note', 'No stack samples in this report.'));
            this.box.style.padding = '8px 12px';
            if (this.select) {
                this.select.disabled = true;
            }
            if (this.reset) {
                this.reset.disabled = true;
            }
            return;
        }
        var all = make('option', null, this.threads.length > 1 ? 'All threads' :
            (this.threads.length ? String(this.threads[0]) : 'all'));
        all.value = '-1';
        this.select.appendChild(all);
        if (this.threads.length > 1) {
            this.threads.forEach(function (t, i) {
                var o = make('option', null, String(t));
                o.value = String(i);
                self.select.appendChild(o);
            });
        }
        this.select.addEventListener('change', function () {
            self.build(parseInt(self.select.value, 10));
            self.render();
        });
        this.reset.addEventListener('click', function () {
            self.focus = self.root;
            self.render();
        });
        this.box.addEventListener('click', function (ev) {
            var n = ev.target && ev.target.pyscopeNode;
            if (n) {
                self.focus = n;
                self.render();
            }
        });
        this.box.addEventListener('mousemove', function (ev) {
            var n = ev.target && ev.target.pyscopeNode;
            if (n) {
                self.showTip(n, ev);
            } else {
                self.tip.hidden = true;
            }
        });
        this.box.addEventListener('mouseleave', function () {
            self.tip.hidden = true;
        });
        var pending = false;
        window.addEventListener('resize', function () {
            if (!pending) {
                pending = true;
                window.requestAnimationFrame(function () {
                    pending = false;
                    self.render();
                });
            }
        });
        this.build(-1);
        this.render();
    };

    /* ---- start ---------------------------------------------------------- */

    var data = {};
    var el = byId('data');
    if (el) {
        data = JSON.parse(el.textContent);
        if (data === null || typeof data !== 'object') {
            data = {};
        }
    }
    setupSorting();
    var flame = new Flame(data);
    flame.setup();
    document.documentElement.setAttribute('data-ready', '1');
})();
