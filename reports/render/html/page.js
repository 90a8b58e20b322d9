/* etrace HTML report viewer: plain JavaScript, no libraries, no network.
 *
 * It reads the JSON report (element etrace-report, the same document --json
 * writes) and the page's extra data (etrace-extra: thread lifetimes, notes,
 * heap series, source lines, the verdict as the text report words it), and
 * builds the page. Every string from the report reaches the page through
 * textContent or canvas fillText, never as HTML. The timeline is one canvas:
 * a suite's 100k events are drawn at most once per pixel column per row.
 * When it is done the page adds #etrace-ok; a script error is written into
 * #etrace-errors (the tests check both). */
'use strict';

var LIMITS = { events: 300000, rows: 5000, tableRows: 1000, heapGraphs: 12, flameNodes: 20000 };

window.onerror = function (msg, src, line, col) {
	var box = document.getElementById('etrace-errors');
	if (!box) {
		box = document.createElement('div');
		box.id = 'etrace-errors';
		document.body.insertBefore(box, document.body.firstChild);
	}
	var p = document.createElement('p');
	p.className = 'etrace-js-error';
	p.textContent = 'viewer error: ' + msg + ' (line ' + line + ':' + col + ')';
	box.appendChild(p);
	return false;
};

function el(tag, attrs, children) {
	var e = document.createElement(tag);
	if (attrs)
		for (var k in attrs) {
			if (k === 'text') e.textContent = attrs[k];
			else if (k === 'cls') e.className = attrs[k];
			else e.setAttribute(k, attrs[k]);
		}
	(children || []).forEach(function (c) {
		if (c !== null && c !== undefined) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
	});
	return e;
}

function readJSON(id) {
	var node = document.getElementById(id);
	return node ? JSON.parse(node.textContent) : null;
}

function fmtMs(ms) {
	if (ms === null || ms === undefined) return '?';
	var a = Math.abs(ms);
	if (a >= 1000) return (ms / 1000).toFixed(3) + ' s';
	if (a >= 1) return ms.toFixed(3) + ' ms';
	return (ms * 1000).toFixed(1) + ' us';
}

function fmtBytes(b) {
	if (b >= 1 << 30) return (b / (1 << 30)).toFixed(1) + ' GiB';
	if (b >= 1 << 20) return (b / (1 << 20)).toFixed(1) + ' MiB';
	if (b >= 1 << 10) return (b / (1 << 10)).toFixed(1) + ' KiB';
	return b + ' B';
}

function frameText(f) {
	var s = (f.function || '??');
	if (f.file) s += ' at ' + f.file + ':' + f.line;
	s += '  (' + (f.module || '?') + '+' + (f.module_offset || '?') + ')';
	if (f.inlined) s += ' [inlined]';
	return s;
}

function statusText(st) {
	if (!st) return 'running';
	if (st.kind === 'exited') return 'exited with ' + st.code;
	return 'killed by ' + st.signal_name + (st.core_dumped ? ' (core dumped)' : '');
}

function stackPre(stack) {
	var pre = el('pre', { cls: 'stack' });
	(stack || []).forEach(function (f, i) { pre.appendChild(document.createTextNode('#' + i + '  ' + frameText(f) + '\n')); });
	return pre;
}

function section(id, title) {
	var s = el('section', { id: id }, [el('h2', { text: title })]);
	document.getElementById('app').appendChild(s);
	return s;
}

function table(headers, rows, opts) {
	opts = opts || {};
	var t = el('table', { cls: opts.cls || '' });
	var thead = el('tr');
	headers.forEach(function (h, i) {
		var th = el('th', { text: h.title });
		if (opts.sortable) {
			th.className = 'sortable';
			th.addEventListener('click', function () { sortTable(t, i, h.num); });
		}
		thead.appendChild(th);
	});
	t.appendChild(thead);
	rows.forEach(function (r) {
		var tr = el('tr');
		r.cells.forEach(function (c, i) {
			var td = el('td', { text: c === null || c === undefined ? '' : String(c), cls: headers[i].num ? 'num' : '' });
			if (headers[i].num && r.raw) td.setAttribute('data-v', r.raw[i]);
			tr.appendChild(td);
		});
		if (r.onclick) { tr.style.cursor = 'pointer'; tr.addEventListener('click', r.onclick); }
		if (r.attrs) for (var k in r.attrs) tr.setAttribute(k, r.attrs[k]);
		t.appendChild(tr);
	});
	return t;
}

function sortTable(t, col, num) {
	var rows = Array.prototype.slice.call(t.querySelectorAll('tr')).slice(1);
	var dir = t.getAttribute('data-sort') === col + 'a' ? -1 : 1;
	t.setAttribute('data-sort', col + (dir === 1 ? 'a' : 'd'));
	rows.sort(function (a, b) {
		var x = a.children[col], y = b.children[col];
		if (num) return dir * (Number(x.getAttribute('data-v') || x.textContent) - Number(y.getAttribute('data-v') || y.textContent));
		return dir * x.textContent.localeCompare(y.textContent);
	});
	rows.forEach(function (r) { t.appendChild(r); });
}

/* ---- header and verdict ------------------------------------------------------------- */

function renderHeader(R) {
	var root = null;
	(R.processes || []).forEach(function (p) { if (p.pid === R.root_pid && !root) root = p; });
	document.title = 'etrace: ' + (R.command || []).join(' ');
	var h = el('header', null, [
		el('h1', { text: 'etrace report' }),
		el('div', { cls: 'cmd', text: (R.command || []).join(' ') }),
		el('div', { cls: 'muted', text: statusText(R.exit) + ' after ' + fmtMs(R.duration_ms) + '; etrace exits with ' +
			R.etrace_exit_code + (R.etrace_error ? ' (' + R.etrace_error + ')' : '') + '; ' +
			(R.processes || []).length + ' processes; etrace ' + R.etrace_version })
	]);
	document.body.insertBefore(h, document.getElementById('app'));
	var nav = el('nav');
	[['verdict', 'Verdict'], ['timeline', 'Timeline'], ['crash', 'Crash'], ['hang', 'Hang'], ['heap', 'Heap'], ['network', 'Network'],
	 ['processes', 'Processes'], ['events', 'Events']].forEach(function (x) {
		if (x[0] === 'hang' && !R.hang) return;
		nav.appendChild(el('a', { href: '#' + x[0], text: x[1] }));
	});
	document.body.insertBefore(nav, document.getElementById('app'));
}

function renderVerdict(R, X) {
	var s = section('verdict', 'Verdict');
	var lines = (X.verdict_text || '').split('\n').filter(function (l) { return l.length && !/^-- verdict/.test(l); });
	if (!lines.length) lines = ['(no findings)'];
	var box = el('div', { id: 'verdict-lines' });
	lines.forEach(function (l) {
		var m = /^\s*([A-Z]+)\b/.exec(l);
		box.appendChild(el('div', { cls: 'verdict-line k-' + (m ? m[1] : 'none'), text: l }));
	});
	s.appendChild(box);
	s.appendChild(el('div', { cls: 'summary', id: 'summary', text: X.summary || (R.verdict && R.verdict.summary) || '' }));
}

/* ---- timeline ----------------------------------------------------------------------- */

var WAITS = { wait4: 1, waitid: 1, futex: 1, poll: 1, ppoll: 1, select: 1, pselect6: 1, epoll_wait: 1, epoll_pwait: 1,
	epoll_pwait2: 1, nanosleep: 1, clock_nanosleep: 1, pause: 1, rt_sigsuspend: 1, rt_sigtimedwait: 1, accept: 1,
	accept4: 1, recvfrom: 1, recvmsg: 1, connect: 1, flock: 1 };
var COLORS = { syscall: '#26a69a', wait: '#90a4ae', failed: '#ef5350', note: '#5c6bc0', signal: '#f9a825',
	crash: '#c62828', heap: '#d84315', conn: '#1e88e5', dns: '#43a047', fork: '#7e57c2', exec: '#6d4c41', hang: '#000000' };

function buildTimeline(R, X) {
	var rows = [], byTid = {}, procRow = {}, left = { events: 0, rows: 0 };
	var tmax = R.duration_ms || 0;
	var threadsByProc = {};
	(X.threads || []).forEach(function (t) { (threadsByProc[t.proc] = threadsByProc[t.proc] || []).push(t); });
	(R.processes || []).forEach(function (p, pi) {
		if (rows.length >= LIMITS.rows) { left.rows += 1 + (threadsByProc[pi] || []).length; return; }
		var name = (p.argv && p.argv.length ? p.argv.join(' ') : p.exe) || '?';
		var pr = { kind: 'proc', label: 'pid ' + p.pid + ' ' + name, pid: p.pid, start: p.start_ms,
			end: p.end_ms === null ? tmax : p.end_ms, proc: p, events: [], failed: p.exit && !(p.exit.kind === 'exited' && p.exit.code === 0) };
		procRow[pi] = pr;
		rows.push(pr);
		(threadsByProc[pi] || p.threads.map(function (t) { return { tid: t.tid, comm: t.comm, start_ms: p.start_ms, end_ms: p.end_ms }; }))
			.forEach(function (t) {
				if (rows.length >= LIMITS.rows) { left.rows++; return; }
				var tr = { kind: 'thread', label: 'tid ' + t.tid + ' ' + (t.comm || ''), pid: p.pid, tid: t.tid,
					start: t.start_ms === null ? p.start_ms : t.start_ms, end: t.end_ms === null ? (p.end_ms === null ? tmax : p.end_ms) : t.end_ms,
					proc: p, events: [] };
				rows.push(tr);
				byTid[p.pid + ':' + t.tid] = tr;
				if (!byTid[t.tid]) byTid[t.tid] = tr;
			});
	});
	var n = 0;
	function rowFor(pid, tid) { return byTid[pid + ':' + tid] || byTid[tid] || null; }
	function add(row, ev) {
		if (!row) return;
		if (n >= LIMITS.events) { left.events++; return; }
		n++;
		row.events.push(ev);
		if (ev.t + (ev.d || 0) > tmax) tmax = ev.t + (ev.d || 0);
	}
	var kept = 0, total = 0;
	(R.processes || []).forEach(function (p) {
		total += p.syscalls;
		p.threads.forEach(function (t) {
			var row = rowFor(p.pid, t.tid);
			t.last_syscalls.forEach(function (s) {
				kept++;
				/* a wait cut short by a signal (ERESTART*, -512..-516) is a wait, not a failure */
				var cut = s.ret !== null && s.ret <= -512 && s.ret >= -516;
				var failed = s.ret !== null && s.ret < 0 && s.errno && !cut;
				add(row, { t: s.t_ms, d: (s.duration_us || 0) / 1000, kind: (WAITS[s.name] || cut) && !failed ? 'wait' : failed ? 'failed' : 'syscall',
					text: s.text, ref: s, type: 'syscall' });
			});
		});
	});
	(X.notes || []).forEach(function (nt) {
		var kind = /^SIG|signal/.test(nt.text) ? 'signal' : /^exec /.test(nt.text) ? 'exec' : 'note';
		add(rowFor(nt.pid, nt.tid), { t: nt.t_ms, d: 0, kind: kind, text: nt.text, type: 'note', ref: nt });
	});
	(R.crashes || []).forEach(function (c, i) {
		add(rowFor(c.pid, c.tid), { t: c.t_ms, d: 0, kind: 'crash', text: 'CRASH ' + c.signal_name + ' ' + (c.si_code_name || '') +
			' at ' + c.fault_address, type: 'crash', ref: c, index: i });
	});
	((R.heap && R.heap.errors) || []).forEach(function (e) {
		add(rowFor(e.pid, e.tid), { t: e.t_ms, d: 0, kind: 'heap', text: e.message || e.kind, type: 'heaperr', ref: e });
	});
	((R.hang && R.hang.threads) || []).forEach(function (h) {
		if (R.hang.t_ms === null || R.hang.t_ms === undefined) return;
		add(rowFor(h.pid, h.tid), { t: R.hang.t_ms, d: 0, kind: 'hang', type: 'hang', ref: h,
			text: 'at the snapshot: ' + (h.state || '') + (h.wait && h.wait.text ? '; ' + h.wait.text : h.call ? '; ' + h.call : '') });
	});
	(R.connections || []).forEach(function (c) {
		var end = c.t_ms;
		c.states.forEach(function (s) { if (s.t_ms > end) end = s.t_ms; });
		add(rowFor(c.pid, c.tid), { t: c.t_ms, d: end - c.t_ms, kind: 'conn', text: c.outcome, type: 'conn', ref: c });
	});
	(R.dns || []).forEach(function (q) {
		add(rowFor(q.pid, q.tid), { t: q.t_ms, d: q.latency_ms || 0, kind: 'dns', text: q.text || q.name, type: 'dns', ref: q });
	});
	rows.forEach(function (r) {
		r.events.sort(function (a, b) { return a.t - b.t; });
		/* the longest event so far, for finding what overlaps the view's left edge */
		var md = 0;
		r.maxd = r.events.map(function (e) { md = Math.max(md, e.d || 0); return md; });
	});
	/* fork links: a child's row to its parent's, at the child's start */
	var links = [];
	(R.processes || []).forEach(function (p, pi) {
		if (!procRow[pi]) return;
		for (var k = 0; k < pi; k++) {
			var q = R.processes[k];
			if (q.pid === p.ppid && procRow[k] && q.start_ms <= p.start_ms && (q.end_ms === null || q.end_ms >= p.start_ms)) {
				links.push({ from: procRow[k], to: procRow[pi], t: p.start_ms });
				break;
			}
		}
	});
	return { rows: rows, links: links, tmax: Math.max(tmax, 0.001), left: left, kept: kept, total: total, drawn: n };
}

function renderTimeline(R, X) {
	var s = section('timeline', 'Timeline');
	var T = buildTimeline(R, X);
	var legend = el('div', { cls: 'legend' });
	[['syscall', 'syscall'], ['wait', 'wait (blocked)'], ['failed', 'failed syscall'], ['signal', 'signal'], ['crash', 'crash'],
	 ['heap', 'heap error'], ['conn', 'TCP connection'], ['dns', 'DNS lookup'], ['note', 'thread/child started'],
	 ['exec', 'exec'], ['fork', 'fork link'], ['hang', 'hang snapshot']].forEach(function (x) {
		legend.appendChild(el('span', null, [el('i', { style: 'background:' + COLORS[x[0]] }), x[1]]));
	});
	s.appendChild(legend);
	var info = 'wheel: zoom at the pointer; drag: pan; shift+wheel: scroll rows; click an event for its details. ' +
		T.rows.length + ' rows, ' + T.drawn + ' events; the syscalls shown are the last ' +
		((R.settings && R.settings.last_syscalls_per_thread) || 'all') + ' of each thread (' + T.kept + ' of ' + T.total + ').';
	s.appendChild(el('div', { cls: 'muted', text: info }));
	if (T.left.events || T.left.rows)
		s.appendChild(el('div', { cls: 'left-out', id: 'timeline-left-out', text: 'Left out past the page\'s bounds: ' +
			T.left.events + ' events (over ' + LIMITS.events + '), ' + T.left.rows + ' rows (over ' + LIMITS.rows + ').' }));
	var ctl = el('div', { cls: 'tl-controls' });
	var wrap = el('div', { cls: 'tl-wrap' });
	var cv = el('canvas', { id: 'tl-canvas' });
	wrap.appendChild(cv);
	s.appendChild(ctl);
	s.appendChild(wrap);
	var details = el('div', { id: 'details', cls: 'mono', text: 'Click an event on the timeline.' });
	s.appendChild(details);

	var LABEL = 230, RH = 16, AXIS = 20;
	var view = { t0: 0, t1: T.tmax * 1.02, y: 0 };
	var ctx = cv.getContext('2d');
	var W = 0, H = 0, dpr = window.devicePixelRatio || 1;
	function size() {
		W = Math.max(400, wrap.clientWidth || 900);
		H = Math.min(600, AXIS + T.rows.length * RH + 4);
		cv.width = W * dpr; cv.height = H * dpr;
		cv.style.height = H + 'px';
		ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
	}
	function xOf(t) { return LABEL + (t - view.t0) / (view.t1 - view.t0) * (W - LABEL); }
	function tOf(x) { return view.t0 + (x - LABEL) / (W - LABEL) * (view.t1 - view.t0); }
	function firstIdx(r, t) { /* first event that may end at or after t */
		var lo = 0, hi = r.events.length;
		while (lo < hi) { var mid = (lo + hi) >> 1; if (r.events[mid].t + r.maxd[mid] < t) lo = mid + 1; else hi = mid; }
		return lo;
	}
	function draw() {
		ctx.clearRect(0, 0, W, H);
		ctx.font = '11px sans-serif';
		ctx.textBaseline = 'middle';
		/* axis */
		ctx.fillStyle = '#f5f7f9'; ctx.fillRect(0, 0, W, AXIS);
		ctx.fillStyle = '#5f6b76';
		var span = view.t1 - view.t0, step = Math.pow(10, Math.floor(Math.log10(span / 6)));
		if (span / step > 12) step *= 5; else if (span / step > 6) step *= 2;
		for (var t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
			var x = xOf(t);
			ctx.fillRect(x, AXIS - 5, 1, 5);
			ctx.fillText(fmtMs(t), x + 2, 8);
		}
		var first = Math.floor(view.y / RH), last = Math.min(T.rows.length, first + Math.ceil((H - AXIS) / RH) + 1);
		for (var i = first; i < last; i++) {
			var r = T.rows[i], y = AXIS + i * RH - view.y;
			if (y < AXIS - RH) continue;
			if (i % 2) { ctx.fillStyle = '#fafbfc'; ctx.fillRect(0, y, W, RH); }
			/* lifetime */
			var x0 = Math.max(LABEL, xOf(r.start)), x1 = Math.min(W, xOf(r.end));
			if (x1 >= x0) {
				ctx.fillStyle = r.kind === 'proc' ? (r.failed ? '#ffcdd2' : '#c8e6c9') : '#eceff1';
				ctx.fillRect(x0, y + (r.kind === 'proc' ? 3 : 6), Math.max(1, x1 - x0), r.kind === 'proc' ? RH - 6 : 4);
			}
			/* events, at most one per pixel column */
			var lastPx = -1, lastKind = '';
			for (var k = firstIdx(r, view.t0); k < r.events.length; k++) {
				var e = r.events[k];
				if (e.t > view.t1) break;
				var ex = xOf(e.t), ew = (e.d || 0) / span * (W - LABEL);
				var px = Math.floor(ex);
				if (ew < 1 && px === lastPx && e.kind === lastKind) continue;
				lastPx = px; lastKind = e.kind;
				ctx.fillStyle = COLORS[e.kind] || '#000';
				if (e.kind === 'crash' || e.kind === 'heap' || e.kind === 'signal' || e.kind === 'hang') {
					ctx.beginPath(); ctx.moveTo(ex, y + 1); ctx.lineTo(ex + 5, y + RH - 2); ctx.lineTo(ex - 5, y + RH - 2); ctx.closePath(); ctx.fill();
				} else if (e.kind === 'note' || e.kind === 'exec') {
					ctx.fillRect(ex, y + 1, 2, RH - 2);
				} else {
					var sx = Math.max(ex, LABEL);
					ctx.fillRect(sx, y + 4, Math.max(1, Math.min(W, ex + ew) - sx), RH - 8);
				}
			}
		}
		/* fork links */
		ctx.strokeStyle = COLORS.fork; ctx.lineWidth = 1;
		T.links.forEach(function (l) {
			var a = T.rows.indexOf(l.from), b = T.rows.indexOf(l.to);
			var x = xOf(l.t);
			if (x < LABEL || x > W) return;
			var ya = AXIS + a * RH - view.y + RH / 2, yb = AXIS + b * RH - view.y + RH / 2;
			ctx.beginPath(); ctx.moveTo(x, ya); ctx.lineTo(x, yb); ctx.lineTo(x + 4, yb); ctx.stroke();
		});
		/* labels */
		ctx.fillStyle = '#fff'; ctx.fillRect(0, AXIS, LABEL, H - AXIS);
		for (i = first; i < last; i++) {
			r = T.rows[i]; y = AXIS + i * RH - view.y;
			if (y < AXIS - RH / 2) continue;
			ctx.fillStyle = r.kind === 'proc' ? (r.failed ? '#c62828' : '#1d2125') : '#5f6b76';
			ctx.font = r.kind === 'proc' ? 'bold 11px sans-serif' : '11px sans-serif';
			var label = (r.kind === 'thread' ? '   ' : '') + r.label;
			ctx.fillText(label.length > 38 ? label.slice(0, 37) + '\u2026' : label, 4, y + RH / 2);
		}
		ctx.fillStyle = '#d8dde2'; ctx.fillRect(LABEL - 1, 0, 1, H);
	}
	function zoom(f, x) {
		var t = tOf(x), nt0 = t - (t - view.t0) * f, nt1 = t + (view.t1 - t) * f;
		if (nt1 - nt0 < 0.0005) return;
		view.t0 = nt0; view.t1 = nt1; draw();
	}
	function scrollRows(dy) {
		var max = Math.max(0, AXIS + T.rows.length * RH - H);
		view.y = Math.max(0, Math.min(max, view.y + dy)); draw();
	}
	[['+', function () { zoom(0.5, LABEL + (W - LABEL) / 2); }], ['\u2212', function () { zoom(2, LABEL + (W - LABEL) / 2); }],
	 ['\u2190', function () { var d = (view.t1 - view.t0) / 4; view.t0 -= d; view.t1 -= d; draw(); }],
	 ['\u2192', function () { var d = (view.t1 - view.t0) / 4; view.t0 += d; view.t1 += d; draw(); }],
	 ['reset', function () { view.t0 = 0; view.t1 = T.tmax * 1.02; view.y = 0; draw(); }]].forEach(function (b) {
		var btn = el('button', { text: b[0], type: 'button' });
		btn.addEventListener('click', b[1]);
		ctl.appendChild(btn);
	});
	cv.addEventListener('wheel', function (ev) {
		ev.preventDefault();
		var rect = cv.getBoundingClientRect();
		if (ev.shiftKey) scrollRows(ev.deltaY || ev.deltaX);
		else zoom(ev.deltaY > 0 ? 1.25 : 0.8, ev.clientX - rect.left);
	}, { passive: false });
	var drag = null;
	cv.addEventListener('mousedown', function (ev) { drag = { x: ev.clientX, y: ev.clientY, t0: view.t0, t1: view.t1, vy: view.y, moved: false }; });
	window.addEventListener('mousemove', function (ev) {
		if (!drag) return;
		var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
		if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
		var dt = dx / (W - LABEL) * (drag.t1 - drag.t0);
		view.t0 = drag.t0 - dt; view.t1 = drag.t1 - dt;
		view.y = drag.vy; scrollRows(-dy);
	});
	window.addEventListener('mouseup', function (ev) {
		if (drag && !drag.moved) pick(ev);
		drag = null;
	});
	function pick(ev) {
		var rect = cv.getBoundingClientRect(), x = ev.clientX - rect.left, y = ev.clientY - rect.top;
		var i = Math.floor((y - AXIS + view.y) / RH);
		if (y < AXIS || i < 0 || i >= T.rows.length) return;
		var r = T.rows[i], t = tOf(x), tol = 4 / (W - LABEL) * (view.t1 - view.t0), best = null, bestd = Infinity;
		for (var k = firstIdx(r, t - tol); k < r.events.length; k++) {
			var e = r.events[k];
			if (e.t > t + tol) break;
			var d = t < e.t ? e.t - t : t > e.t + e.d ? t - e.t - e.d : 0;
			if (e.kind === 'crash' || e.kind === 'heap' || e.kind === 'signal') d -= tol / 2; /* markers win */
			if (d <= tol && d < bestd) { best = e; bestd = d; }
		}
		showDetails(details, r, best);
	}
	window.etraceTimeline = { rows: T.rows, pick: function (row, e) { showDetails(details, T.rows[row], e); } };
	size(); draw();
	window.addEventListener('resize', function () { size(); draw(); });
	return T;
}

function showDetails(box, row, e) {
	box.textContent = '';
	if (!e) { box.textContent = row.label + ': nothing here.'; return; }
	function line(s) { box.appendChild(el('div', { text: s })); }
	line(row.label + '  (pid ' + row.pid + (row.tid ? ', tid ' + row.tid : '') + ')');
	line('at +' + fmtMs(e.t) + (e.d ? ', took ' + fmtMs(e.d) : ''));
	var r = e.ref;
	if (e.type === 'syscall') {
		line(r.text);
		if (r.errno) line('error: ' + r.errno);
	} else if (e.type === 'crash') {
		line('CRASH ' + r.signal_name + ' (' + (r.si_code_name || '') + ': ' + (r.si_code_text || '') + ') at address ' + r.fault_address);
		if (r.sender) line('sent by ' + r.sender.text);
		box.appendChild(stackPre(r.backtrace));
		box.appendChild(el('a', { href: '#crash-' + e.index, text: 'the crash section' }));
	} else if (e.type === 'heaperr') {
		line(r.message || r.kind);
		box.appendChild(stackPre(r.stack));
		if (r.block && r.block.alloc_stack) { line('allocated at:'); box.appendChild(stackPre(r.block.alloc_stack)); }
		if (r.block && r.block.free_stack) { line('freed at:'); box.appendChild(stackPre(r.block.free_stack)); }
	} else if (e.type === 'hang') {
		line(e.text);
		if (r.where) line('in ' + r.where);
		box.appendChild(stackPre(r.backtrace));
	} else if (e.type === 'conn') {
		line(r.role + ' ' + r.local + (r.remote ? ' -> ' + r.remote : '') + ': ' + r.outcome);
		line(connStory(r));
	} else {
		line(e.text);
	}
}

function connStory(c) {
	return c.states.map(function (s) { return '+' + fmtMs(s.t_ms - c.t_ms) + ' ' + s.from + '\u2192' + s.to; }).join(', ') +
		'; sent ' + c.bytes_sent + ' B, received ' + c.bytes_received + ' B' +
		(c.resets_received ? ', ' + c.resets_received + ' RST received' : '') + (c.resets_sent ? ', ' + c.resets_sent + ' RST sent' : '') +
		(c.retransmits ? ', ' + c.retransmits + ' retransmits' : '') +
		(c.drops.length ? ', drops: ' + c.drops.map(function (d) { return d.reason + ' x' + d.count; }).join(', ') : '');
}

/* ---- crash -------------------------------------------------------------------------- */

function renderCrashes(R, X) {
	var s = section('crash', 'Crash');
	var crashes = R.crashes || [];
	if (!crashes.length) { s.appendChild(el('p', { cls: 'muted', text: 'No process crashed.' })); return; }
	var src = {};
	(X.sources || []).forEach(function (x) { src[x.file + ':' + x.line] = x; });
	crashes.forEach(function (c, i) {
		var d = el('div', { id: 'crash-' + i });
		d.appendChild(el('h3', { text: 'pid ' + c.pid + ', thread ' + c.tid + ' (' + c.thread_name + '): ' + c.signal_name +
			' (' + (c.si_code_name || '?') + ': ' + (c.si_code_text || '') + ') at address ' + c.fault_address + ', +' + fmtMs(c.t_ms) }));
		if (c.sender) d.appendChild(el('div', { text: 'sent by ' + c.sender.text }));
		if (c.abort_message) d.appendChild(el('div', { text: 'abort message: ' + c.abort_message }));
		if (c.faulting_instruction) d.appendChild(el('div', { text: 'faulting instruction: ' + c.faulting_instruction }));
		if (c.heap && c.heap.text) d.appendChild(el('div', { text: c.heap.text }));
		if (c.registers) {
			var names = Object.keys(c.registers), rows = [];
			for (var k = 0; k < names.length; k += 4)
				rows.push({ cells: names.slice(k, k + 4).map(function (n) { return n + ' ' + c.registers[n]; }) });
			d.appendChild(el('h3', { text: 'registers' }));
			d.appendChild(table([{ title: '' }, { title: '' }, { title: '' }, { title: '' }], rows, { cls: 'regs' }));
		}
		d.appendChild(el('h3', { text: 'backtrace' + (c.backtrace_error ? ' (stopped: ' + c.backtrace_error + ')' : '') }));
		var bt = el('div', { cls: 'backtrace' });
		(c.backtrace || []).forEach(function (f, j) {
			bt.appendChild(el('div', { cls: 'mono frame', text: '#' + j + '  ' + f.pc + ' in ' + frameText(f) }));
			var sx = f.file ? src[f.file + ':' + f.line] : null;
			if (sx && sx.lines) {
				var pre = el('pre', { cls: 'src' });
				sx.lines.forEach(function (l, n) {
					var no = sx.first + n;
					var span = el('span', { cls: no === sx.line ? 'hit' : '', text: String(no).padStart(5) + '  ' + l + '\n' });
					pre.appendChild(span);
				});
				bt.appendChild(pre);
			} else if (sx && sx.why) {
				bt.appendChild(el('div', { cls: 'muted src', text: 'source ' + f.file + ': ' + sx.why }));
			}
		});
		d.appendChild(bt);
		if (c.threads && c.threads.length) {
			d.appendChild(el('h3', { text: 'other threads' }));
			c.threads.forEach(function (t) { d.appendChild(el('div', { cls: 'mono', text: 'tid ' + t.tid + ' (' + t.comm + '): ' + (t.state || '') })); });
		}
		if (c.rewind && c.rewind.length) {
			d.appendChild(el('h3', { text: 'rewind: the last ' + c.rewind.length + ' events before the crash' }));
			var pre = el('pre', { cls: 'rewind' });
			c.rewind.forEach(function (r) {
				pre.appendChild(document.createTextNode((r.crashing_thread ? '* ' : '  ') + fmtMs(r.rel_ms).padStart(12) + '  tid ' + r.tid + '  ' + r.text + '\n'));
			});
			d.appendChild(pre);
		}
		s.appendChild(d);
	});
}

/* ---- hang: where every thread was when the run was cut short ------------------------ */

function renderHang(R) {
	var h = R.hang;
	if (!h) return;
	var s = section('hang', 'Hang: ' + (h.reason || '') + (h.t_ms !== undefined && h.t_ms !== null ? ' at +' + fmtMs(h.t_ms) : ''));
	if (h.error) s.appendChild(el('div', { cls: 'left-out', text: h.error }));
	(h.deadlocks || []).forEach(function (d) { s.appendChild(el('div', { cls: 'verdict-line k-CRASH', text: d })); });
	var box = el('div', { id: 'hang-stack' });
	var threads = h.threads || [];
	s.appendChild(table([{ title: 'pid', num: true }, { title: 'tid', num: true }, { title: 'thread' }, { title: 'state' },
		{ title: 'waits for' }, { title: 'in' }], threads.slice(0, LIMITS.tableRows).map(function (t) {
		return { cells: [t.pid, t.tid, t.comm, t.state, (t.wait && t.wait.text) || t.call || '', t.where || ''], raw: [t.pid, t.tid],
			onclick: function () { box.textContent = ''; box.appendChild(el('div', { text: 'tid ' + t.tid + ': ' + (t.call || t.state) })); box.appendChild(stackPre(t.backtrace)); } };
	}), { sortable: true }));
	if (threads.length > LIMITS.tableRows) s.appendChild(el('div', { cls: 'left-out', text: (threads.length - LIMITS.tableRows) + ' more threads not in the table.' }));
	s.appendChild(box);
}

/* ---- heap --------------------------------------------------------------------------- */

function renderHeap(R, X) {
	var s = section('heap', 'Heap');
	var H = R.heap;
	if (!H || !H.enabled) { s.appendChild(el('p', { cls: 'muted', text: 'Heap tracing was off.' })); return; }
	var sum = H.summary || {};
	s.appendChild(el('div', { text: ['definitely_lost', 'indirectly_lost', 'possibly_lost', 'still_reachable', 'suppressed'].map(function (k) {
		var v = sum[k] || { bytes: 0, blocks: 0 };
		return k.replace('_', ' ') + ': ' + v.bytes + ' bytes in ' + v.blocks + ' blocks';
	}).join('; ') }));
	/* live bytes over time */
	s.appendChild(el('h3', { text: 'live bytes over time' }));
	var series = (X.heap_series || []).slice().sort(function (a, b) { return peak(b) - peak(a); });
	function peak(x) { var m = 0; x.points.forEach(function (p) { if (p[1] > m) m = p[1]; }); return m; }
	series.slice(0, LIMITS.heapGraphs).forEach(function (x) { s.appendChild(heapGraph(R, x, peak(x))); });
	if (series.length > LIMITS.heapGraphs)
		s.appendChild(el('div', { cls: 'left-out', text: (series.length - LIMITS.heapGraphs) + ' processes with smaller heaps not drawn.' }));
	if (!series.length) s.appendChild(el('div', { cls: 'muted', text: 'No allocation was recorded.' }));
	/* errors */
	var errs = H.errors || [];
	s.appendChild(el('h3', { text: 'errors (' + errs.length + (H.errors_not_listed ? ', ' + H.errors_not_listed + ' not listed' : '') + ')' }));
	errs.slice(0, LIMITS.tableRows).forEach(function (e) {
		var d = el('div', { cls: 'heap-error' }, [el('div', { cls: 'mono', text: e.message || e.kind })]);
		d.appendChild(stackPre(e.stack));
		if (e.block && e.block.alloc_stack) { d.appendChild(el('div', { text: 'allocated at:' })); d.appendChild(stackPre(e.block.alloc_stack)); }
		if (e.block && e.block.free_stack) { d.appendChild(el('div', { text: 'freed at:' })); d.appendChild(stackPre(e.block.free_stack)); }
		s.appendChild(d);
	});
	/* leaks */
	var leaks = H.leaks || [];
	s.appendChild(el('h3', { text: 'leaks (' + leaks.length + (H.leaks_not_listed ? ', ' + H.leaks_not_listed + ' not listed' : '') + '): click a column to sort, a row for its stack' }));
	var stackBox = el('div', { id: 'leak-stack' });
	var shown = leaks.slice(0, LIMITS.tableRows);
	var t = table([{ title: 'pid', num: true }, { title: 'kind' }, { title: 'bytes', num: true }, { title: 'blocks', num: true },
		{ title: 'allocated by' }, { title: 'in' }, { title: 'at' }], shown.map(function (l) {
		var own = ownFrame(l.stack);
		return { cells: [l.pid, l.kind, l.bytes, l.blocks, l.function, own ? own.function : '', own && own.file ? own.file + ':' + own.line : ''],
			raw: [l.pid, 0, l.bytes, l.blocks], attrs: { 'class': 'leak-row' },
			onclick: function () { stackBox.textContent = ''; stackBox.appendChild(el('div', { text: l.bytes + ' bytes in ' + l.blocks + ' blocks ' + l.kind + ', allocated by ' + l.function + ' at:' })); stackBox.appendChild(stackPre(l.stack)); } };
	}), { sortable: true });
	t.id = 'leaks-table';
	s.appendChild(t);
	if (leaks.length > shown.length) s.appendChild(el('div', { cls: 'left-out', text: (leaks.length - shown.length) + ' smaller leaks not in the table.' }));
	s.appendChild(stackBox);
	if (leaks.length) {
		s.appendChild(el('h3', { text: 'allocation stacks of the leaks (flame graph: callers on top, width = bytes; click a frame)' }));
		s.appendChild(flameGraph(leaks));
	}
}

function ownFrame(stack) {
	stack = stack || [];
	for (var i = 0; i < stack.length; i++)
		if (stack[i].file && !/^(\.\.\/|\.\/)?(sysdeps|nptl|malloc|stdlib|libio)\//.test(stack[i].file) && !/^lib(c|stdc\+\+)\.so/.test(stack[i].module || ''))
			return stack[i];
	return stack[0] || null;
}

function heapGraph(R, x, max) {
	var wrap = el('div', { cls: 'heap-graph' });
	var proc = (R.processes || [])[x.proc];
	wrap.appendChild(el('div', { cls: 'muted', text: 'pid ' + x.pid + ' ' + (proc ? (proc.argv || []).join(' ') : '') + ': peak ' +
		fmtBytes(max) + ', ' + x.samples + ' allocator calls, ' + x.points.length + ' points of ' + fmtMs(x.step_ms) }));
	var cv = el('canvas', { width: '900', height: '90' });
	cv.style.width = '100%'; cv.style.maxWidth = '900px'; cv.style.border = '1px solid #d8dde2';
	wrap.appendChild(cv);
	var ctx = cv.getContext('2d'), W = 900, Hh = 90, tmax = Math.max(R.duration_ms || 0, x.points[x.points.length - 1][0]) || 1;
	ctx.fillStyle = '#ffccbc'; ctx.strokeStyle = '#d84315';
	ctx.beginPath(); ctx.moveTo(0, Hh);
	var prevY = Hh;
	x.points.forEach(function (p) {
		var px = p[0] / tmax * W, py = Hh - 4 - p[1] / (max || 1) * (Hh - 14);
		ctx.lineTo(px, prevY); ctx.lineTo(px, py); prevY = Hh - 4 - p[2] / (max || 1) * (Hh - 14);
	});
	ctx.lineTo(W, prevY); ctx.lineTo(W, Hh); ctx.closePath(); ctx.fill(); ctx.stroke();
	ctx.fillStyle = '#1d2125'; ctx.font = '11px sans-serif';
	ctx.fillText(fmtBytes(max), 4, 11); ctx.fillText(fmtMs(tmax), W - 70, Hh - 4);
	return wrap;
}

function flameGraph(leaks) {
	var root = { name: 'all leaks', v: 0, kids: {}, n: 0 }, nodes = 1;
	leaks.forEach(function (l) {
		root.v += l.bytes;
		var node = root, st = (l.stack || []).slice().reverse();
		st.forEach(function (f) {
			var key = (f.function || '??') + (f.file ? ' ' + f.file + ':' + f.line : '');
			if (!node.kids[key]) {
				if (nodes >= LIMITS.flameNodes) return;
				node.kids[key] = { name: key, frame: f, v: 0, kids: {} };
				nodes++;
			}
			node = node.kids[key];
			node.v += l.bytes;
		});
	});
	var depth = 0;
	(function d(n, k) { depth = Math.max(depth, k); for (var c in n.kids) d(n.kids[c], k + 1); })(root, 1);
	var wrap = el('div', { cls: 'flame-wrap' });
	var W = 1000, RH = 18, Hh = depth * RH;
	var cv = el('canvas', { id: 'flame', width: String(W), height: String(Hh) });
	cv.style.height = Hh + 'px';
	var info = el('div', { cls: 'mono', id: 'flame-info', text: 'Click a frame.' });
	wrap.appendChild(cv); wrap.appendChild(info);
	var ctx = cv.getContext('2d'), boxes = [];
	ctx.font = '11px sans-serif'; ctx.textBaseline = 'middle';
	(function lay(n, x, w, k) {
		var hue = 20 + (n.name.length * 37) % 40;
		ctx.fillStyle = k ? 'hsl(' + hue + ',85%,' + (62 + (k % 3) * 6) + '%)' : '#bdbdbd';
		ctx.fillRect(x, k * RH, Math.max(1, w - 1), RH - 1);
		boxes.push({ x: x, y: k * RH, w: w, n: n });
		if (w > 30) {
			ctx.fillStyle = '#1d2125';
			var label = n.name, maxc = Math.floor((w - 6) / 6.5);
			ctx.fillText(label.length > maxc ? label.slice(0, Math.max(0, maxc - 1)) + '\u2026' : label, x + 3, k * RH + RH / 2);
		}
		var kids = Object.keys(n.kids).map(function (c) { return n.kids[c]; }).sort(function (a, b) { return b.v - a.v; }), cx = x;
		kids.forEach(function (c) { var cw = w * c.v / (n.v || 1); lay(c, cx, cw, k + 1); cx += cw; });
	})(root, 0, W, 0);
	cv.addEventListener('click', function (ev) {
		var r = cv.getBoundingClientRect(), x = (ev.clientX - r.left) * W / r.width, y = (ev.clientY - r.top) * Hh / r.height;
		for (var i = boxes.length - 1; i >= 0; i--) {
			var b = boxes[i];
			if (x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + RH) {
				info.textContent = (b.n.frame ? frameText(b.n.frame) : b.n.name) + ': ' + b.n.v + ' bytes leaked below it';
				return;
			}
		}
	});
	return wrap;
}

/* ---- network, processes, events ----------------------------------------------------- */

function renderNetwork(R) {
	var s = section('network', 'Network');
	var conns = R.connections || [];
	s.appendChild(el('h3', { text: 'TCP connections (' + conns.length + ')' }));
	if (conns.length)
		s.appendChild(table([{ title: 'pid', num: true }, { title: 'role' }, { title: 'local' }, { title: 'remote' }, { title: 'outcome' }, { title: 'story' }],
			conns.slice(0, LIMITS.tableRows).map(function (c) {
				return { cells: [c.pid, c.role, c.local, c.remote, c.outcome, connStory(c)], raw: [c.pid] };
			}), { sortable: true }));
	var dns = R.dns || [];
	s.appendChild(el('h3', { text: 'DNS lookups (' + dns.length + ')' }));
	if (dns.length)
		s.appendChild(table([{ title: 'at' }, { title: 'pid', num: true }, { title: 'lookup' }],
			dns.slice(0, LIMITS.tableRows).map(function (q) { return { cells: ['+' + fmtMs(q.t_ms), q.pid, q.text || q.name], raw: [0, q.pid] }; })));
	var udp = R.udp_flows || [];
	s.appendChild(el('h3', { text: 'UDP flows (' + udp.length + ')' }));
	if (udp.length)
		s.appendChild(table([{ title: 'pid', num: true }, { title: 'local' }, { title: 'remote' }, { title: 'sent' }, { title: 'received' }],
			udp.slice(0, LIMITS.tableRows).map(function (u) {
				return { cells: [u.pid, u.local, u.remote, u.datagrams_sent + ' dgrams, ' + u.bytes_sent + ' B', u.datagrams_received + ' dgrams, ' + u.bytes_received + ' B'], raw: [u.pid] };
			})));
}

function renderProcesses(R) {
	var procs = R.processes || [];
	var s = section('processes', 'Processes (' + procs.length + ')');
	var shown = procs.slice(0, LIMITS.tableRows);
	s.appendChild(table([{ title: 'pid', num: true }, { title: 'ppid', num: true }, { title: 'status' }, { title: 'duration (ms)', num: true },
		{ title: 'threads', num: true }, { title: 'syscalls', num: true }, { title: 'command' }], shown.map(function (p) {
		return { cells: [p.pid, p.ppid, (p.privileged ? 'privileged, ' : '') + statusText(p.exit), p.duration_ms === null ? '' : p.duration_ms.toFixed(3),
			p.threads.length, p.syscalls, (p.argv || []).join(' ')], raw: [p.pid, p.ppid, 0, p.duration_ms || 0, p.threads.length, p.syscalls] };
	}), { sortable: true }));
	if (procs.length > shown.length) s.appendChild(el('div', { cls: 'left-out', text: (procs.length - shown.length) + ' more processes not in the table (the JSON report has all).' }));
}

function renderEvents(R) {
	var s = section('events', 'Events');
	var e = R.events || {}, lost = e.lost || {};
	s.appendChild(el('div', { text: (e.received || 0) + ' records received, ' + (lost.total || 0) + ' lost (ring buffer full), ' +
		(e.trimmed || 0) + ' trimmed to stay under --max-records, ' + (e.malformed || 0) + ' malformed.' }));
	var kg = (R.kernel && R.kernel.missing) || [];
	kg.forEach(function (g) { s.appendChild(el('div', { cls: 'muted', text: 'kernel: ' + g.what + ': ' + g.cost })); });
}

function main() {
	var t0 = performance.now();
	var R = readJSON('etrace-report'), X = readJSON('etrace-extra') || {};
	renderHeader(R);
	renderVerdict(R, X);
	var T = renderTimeline(R, X);
	renderCrashes(R, X);
	renderHang(R);
	renderHeap(R, X);
	renderNetwork(R);
	renderProcesses(R);
	renderEvents(R);
	var ok = el('div', { id: 'etrace-ok', 'data-rows': String(T.rows.length), 'data-events': String(T.drawn),
		'data-ms': (performance.now() - t0).toFixed(0) });
	ok.hidden = true;
	document.body.appendChild(ok);
}

main();
