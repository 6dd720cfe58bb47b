import type { IngestCounts } from '../ingest/ingest-day.js';
import type { IngestDayRow, ReportDocument, ScopeReport, TimelineEvent, TopItemRow } from './report.js';

/*
 * The HTML of `recsys-pipelines report`: one self-contained file a PM opens
 * from a shared drive. Inline CSS and inline SVG only; no scripts, fonts or
 * images from anywhere (a Content-Security-Policy says so to the browser
 * too), so it works from file:// and offline, and prints on A4.
 *
 * Every chart has a table with the same numbers next to it, and no state is
 * told by colour alone: badges carry words and symbols, chart series carry
 * patterns, blocked days carry a mark and a label.
 *
 * Item ids, tenants, messages and the like are user data: every value goes
 * through the `html` template tag, which escapes anything that is not
 * already rendered markup. Nothing is ever concatenated into markup raw.
 */

/** Markup that is already escaped. */
class Markup {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. @since 0.1.0 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: unknown): string {
  if (value instanceof Markup) return value.text;
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Template tag: interpolations are escaped unless they are {@link Markup}. */
function html(strings: TemplateStringsArray, ...values: unknown[]): Markup {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Markup(out);
}

// ---------------------------------------------------------------- formatting

/** 1234567 → "1,234,567" (fixed, not the viewer's locale: the file is shared). */
function int(n: number): string {
  const s = String(Math.round(Math.abs(n)));
  return (n < 0 ? '-' : '') + s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  const d = Math.floor(h / 24);
  return `${d} d ${h % 24} h`;
}

/** "2026-01-02T01:00:00.000Z" → "2026-01-02 01:00 UTC". */
function when(iso: string | undefined): string {
  if (iso === undefined) return '—';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

function windowText(w: { readonly start: string; readonly end: string } | undefined): string {
  if (!w) return '—';
  const start = w.start.slice(0, 10);
  const lastMs = Date.parse(w.end) - 1;
  const last = Number.isFinite(lastMs) ? new Date(lastMs).toISOString().slice(0, 10) : w.end;
  return start === last ? start : `${start} → ${last}`;
}

const shortV = (v: string) => v.slice(0, 12);

function slug(s: ScopeReport): string {
  return `scope-${s.tenant}-${s.surface}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

// --------------------------------------------------------------------- parts

function badge(fresh: boolean, text?: string): Markup {
  return fresh ? html`<span class="badge fresh" data-state="fresh"><span aria-hidden="true">✓</span> ${text ?? 'FRESH'}</span>` : html`<span class="badge stale" data-state="stale"><span aria-hidden="true">⚠</span> ${text ?? 'STALE'}</span>`;
}

/** Freshness: the age against the SLO as a bar, with the numbers in words. */
function freshnessCard(s: ScopeReport, maxAge: number): Markup {
  const f = s.freshness as ScopeReport['freshness'] & { data_age_seconds?: number; window_end?: string };
  const age = f.data_age_seconds ?? f.age_seconds;
  const ageLabel = f.data_age_seconds !== undefined ? 'Data age (now − end of live window)' : 'Manifest age (since last change)';
  const ratio = age === undefined ? 1 : Math.min(age / maxAge, 2);
  const W = 320;
  const sloX = W / 2;
  const barW = Math.max(2, Math.round((ratio / 2) * W));
  const gauge = html`<svg class="gauge" viewBox="0 0 ${W} 34" width="${W}" height="34" role="img" aria-label="${age === undefined ? 'age unknown' : `age ${duration(age)} of a ${duration(maxAge)} SLO`}">
<rect x="0" y="6" width="${W}" height="14" class="gauge-track"/>
<rect x="0" y="6" width="${barW}" height="14" class="${f.fresh ? 'gauge-fresh' : 'gauge-stale'}"/>
<line x1="${sloX}" y1="2" x2="${sloX}" y2="24" class="gauge-slo"/>
<text x="${sloX}" y="33" text-anchor="middle" class="gauge-label">SLO ${duration(maxAge)}</text>
</svg>`;
  return html`<div class="card freshness ${f.fresh ? 'is-fresh' : 'is-stale'}">
<h3>Freshness</h3>
<p class="big">${badge(f.fresh)}</p>
${gauge}
<dl>
<dt>${ageLabel}</dt><dd data-field="age">${age === undefined ? '—' : duration(age)}</dd>
<dt>Freshness SLO (max age)</dt><dd>${duration(maxAge)}</dd>
<dt>Manifest updated</dt><dd>${when(f.updated_at)}</dd>
${f.last_history ? html`<dt>Last change</dt><dd>#${f.last_history.seq} ${f.last_history.reason} by ${f.last_history.actor.user}@${f.last_history.actor.host}</dd>` : ''}
</dl>
${!f.fresh && f.stale_reason ? html`<p class="why"><strong>Why stale:</strong> ${f.stale_reason}</p>` : ''}
${f.manifest_lags_history ? html`<p class="why"><strong>Note:</strong> the manifest lags its history (a publish stopped mid-commit); the next publish or rollback completes it.</p>` : ''}
</div>`;
}

function rollbackBox(s: ScopeReport): Markup {
  const steps =
    s.history.total > 1
      ? html`<ol>
<li>See what would change (writes nothing):<pre><code>${s.rollback.dry_run}</code></pre></li>
${s.rollback.keys.length > 0 ? html`<li>Move a key back to its last good version:${s.rollback.keys.map((k) => html`<pre><code>${k.command}</code></pre>`)}</li>` : ''}
<li>Or undo the last pointer change of every key:<pre><code>${s.rollback.all}</code></pre></li>
</ol>
<p class="small">Replace <code>…</code> with why; <code>recsys-pipelines history --tenant ${s.tenant} --surface ${s.surface}</code> lists every change.</p>`
      : html`<p><strong>Nothing to roll back to yet:</strong> only one version of this surface has been published.</p>`;
  return html`<div class="card rollback" aria-labelledby="${slug(s)}-rb">
<h3 id="${slug(s)}-rb">How to roll back</h3>
<p>If what is live looks wrong, move the pointer back. It takes effect when recsys-service next reads the manifest; nothing is deleted, and the move is recorded in the history.</p>
${steps}
</div>`;
}

function liveTable(s: ScopeReport): Markup {
  if (s.live.length === 0) return html`<p class="empty">Nothing is live for this surface.</p>`;
  return html`<table class="live">
<caption>Live artifacts: the manifest keys recsys-service serves</caption>
<thead><tr><th scope="col">Key</th><th scope="col">Version</th><th scope="col">Built</th><th scope="col">Window</th><th scope="col" class="num">Rows</th><th scope="col" class="num">Size</th></tr></thead>
<tbody>
${s.live.map(
  (a) => html`<tr data-key="${a.key}">
<th scope="row"><code>${a.key}</code></th>
<td><code title="${a.version}">${shortV(a.version)}</code></td>
<td>${when(a.built_at)}</td>
<td>${windowText(a.window)}</td>
<td class="num">${a.rows === undefined ? '—' : int(a.rows)}</td>
<td class="num">${a.bytes === undefined ? '—' : bytes(a.bytes)}</td>
</tr>${a.problem ? html`<tr class="problem"><td colspan="6"><strong>Problem:</strong> ${a.problem} (run <code>recsys-pipelines verify</code>)</td></tr>` : ''}`,
)}
</tbody>
</table>`;
}

function changeCell(r: TopItemRow): Markup {
  switch (r.change) {
    case 'new':
      return html`<span class="chg new">★ new</span>`;
    case 'up':
      return html`<span class="chg up">▲ ${r.move} <span class="small">(was #${r.previous_rank})</span></span>`;
    case 'down':
      return html`<span class="chg down">▼ ${-(r.move ?? 0)} <span class="small">(was #${r.previous_rank})</span></span>`;
    case 'same':
      return html`<span class="chg same">= same</span>`;
    default:
      return html`<span class="chg unknown">—</span>`;
  }
}

function topItems(s: ScopeReport): Markup {
  const t = s.top_items;
  if (!t) return html`<p class="empty">No popularity artifact is live.</p>`;
  const max = Math.max(1, ...t.items.map((i) => i.count));
  const against = t.previous ? html`Change is against <code title="${t.previous.version}">${shortV(t.previous.version)}</code>, the version served before${t.previous.available ? '' : ' (its blob is gone, so no comparison)'}.` : html`No earlier version in the history: nothing to compare with.`;
  return html`<p class="small">From <code>${t.key}</code> <code title="${t.version}">${shortV(t.version)}</code>. ${against}</p>
<table class="top">
<caption>Top ${t.items.length} items by exposures</caption>
<thead><tr><th scope="col" class="num">Rank</th><th scope="col">Item</th><th scope="col" class="num">Exposures</th><th scope="col" class="barcol"><span class="sr">Bar</span></th><th scope="col">Change</th></tr></thead>
<tbody>
${t.items.map(
  (r) => html`<tr data-change="${r.change}">
<td class="num">${r.rank}</td>
<th scope="row" class="id">${r.item_id}</th>
<td class="num">${int(r.count)}</td>
<td class="barcol"><svg viewBox="0 0 100 10" preserveAspectRatio="none" width="100%" height="10" aria-hidden="true"><rect x="0" y="0" height="10" width="${Math.max(0.5, (r.count / max) * 100).toFixed(2)}" class="bar-accepted"/></svg></td>
<td>${changeCell(r)}</td>
</tr>`,
)}
</tbody>
</table>
${
  t.dropped.length > 0
    ? html`<p class="dropped"><strong>Left the top ${t.items.length}:</strong> ${t.dropped.map((d, i) => html`${i > 0 ? ', ' : ''}<span class="id">${d.item_id}</span> (was #${d.previous_rank})`)}</p>`
    : ''
}`;
}

function neighborsTable(s: ScopeReport): Markup {
  const n = s.neighbors;
  if (!n) return html`<p class="empty">${s.top_items ? 'No cooc artifact is live.' : 'Needs popularity and cooc artifacts.'}</p>`;
  return html`<p class="small">From <code>${n.key}</code> <code title="${n.version}">${shortV(n.version)}</code>: items most often seen in the same session, strongest first.</p>
<table class="neighbors">
<caption>Strongest co-occurrence neighbours of the top ${n.rows.length} items</caption>
<thead><tr><th scope="col" class="num">Rank</th><th scope="col">Item</th><th scope="col">Neighbours (shared sessions)</th></tr></thead>
<tbody>
${n.rows.map(
  (r) => html`<tr>
<td class="num">${r.rank}</td>
<th scope="row" class="id">${r.item_id}</th>
<td>${r.neighbors.length === 0 ? html`<span class="empty">none</span>` : html`<ol class="nb">${r.neighbors.map((x) => html`<li><span class="id">${x.item_id}</span> <span class="cnt">${int(x.count)}</span></li>`)}</ol>`}${r.neighbors_total > r.neighbors.length ? html` <span class="small">+${int(r.neighbors_total - r.neighbors.length)} more</span>` : ''}</td>
</tr>`,
)}
</tbody>
</table>`;
}

const OUTCOME: Record<IngestDayRow['outcome'], { symbol: string; text: string }> = {
  published: { symbol: '✓', text: 'published' },
  blocked: { symbol: '✕', text: 'blocked' },
  not_published: { symbol: '–', text: 'not published' },
  not_ingested: { symbol: '∅', text: 'no data' },
};

function otherOf(c: IngestCounts): number {
  return c.out_of_window + c.other_scope + (c.other_shard ?? 0);
}

/** A round axis maximum: 1, 2 or 5 times a power of ten. */
function niceMax(n: number): number {
  if (n <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

function ingestChart(s: ScopeReport, idx: number): Markup {
  const days = s.ingest.days;
  const W = 880;
  const H = 250;
  const left = 64;
  const right = 12;
  const top = 26;
  const bottom = 56;
  const plotH = H - top - bottom;
  const plotW = W - left - right;
  const maxRead = niceMax(Math.max(0, ...days.map((d) => (d.counts ? d.counts.read : 0))));
  const slot = plotW / Math.max(1, days.length);
  const barW = Math.max(4, Math.min(40, slot * 0.64));
  const y = (v: number) => top + plotH - (v / maxRead) * plotH;
  const p = `p${idx}`;
  const labelEvery = Math.ceil(days.length / 16);
  const series = [
    { key: 'accepted', cls: 'bar-accepted', fill: 'bar-accepted' },
    { key: 'duplicates', cls: 'bar-dup', fill: `url(#${p}-dup)` },
    { key: 'rejected', cls: 'bar-rej', fill: `url(#${p}-rej)` },
    { key: 'other', cls: 'bar-other', fill: `url(#${p}-oth)` },
  ] as const;
  const value = (c: IngestCounts, k: (typeof series)[number]['key']) => (k === 'accepted' ? c.accepted : k === 'duplicates' ? c.duplicates : k === 'rejected' ? c.rejected : otherOf(c));
  const bars = days.map((d, i) => {
    const cx = left + slot * i + slot / 2;
    const x = cx - barW / 2;
    const label = i % labelEvery === 0 || i === days.length - 1 ? html`<text x="${cx}" y="${top + plotH + 14}" text-anchor="middle" class="tick">${d.day.slice(5)}</text>` : '';
    const o = OUTCOME[d.outcome];
    const mark = html`<text x="${cx}" y="${top + plotH + 30}" text-anchor="middle" class="mark mark-${d.outcome}">${o.symbol}</text>`;
    if (!d.counts) return html`<g class="day" data-day="${d.day}" data-outcome="${d.outcome}"><title>${d.day}: ${o.text}</title>${label}${mark}</g>`;
    let acc = 0;
    const rects = series.map((ser) => {
      const v = value(d.counts!, ser.key);
      if (v <= 0) return '';
      const y0 = y(acc);
      acc += v;
      const y1 = y(acc);
      return html`<rect x="${x.toFixed(1)}" y="${y1.toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(0.5, y0 - y1).toFixed(1)}" class="${ser.cls}" fill="${ser.fill}"/>`;
    });
    const blocked =
      d.outcome === 'blocked'
        ? html`<rect x="${(x - 3).toFixed(1)}" y="${(y(d.counts.read) - 3).toFixed(1)}" width="${(barW + 6).toFixed(1)}" height="${(top + plotH - y(d.counts.read) + 3).toFixed(1)}" class="blocked-outline"/><text x="${cx}" y="${(y(d.counts.read) - 7).toFixed(1)}" text-anchor="middle" class="blocked-label">✕ blocked</text>`
        : '';
    return html`<g class="day" data-day="${d.day}" data-outcome="${d.outcome}"><title>${d.day}: read ${int(d.counts.read)}, accepted ${int(d.counts.accepted)}, duplicates ${int(d.counts.duplicates)}, rejected ${int(d.counts.rejected)}, other ${int(otherOf(d.counts))} — ${o.text}${d.gate ? ` (${d.gate})` : ''}</title>${rects}${blocked}${label}${mark}</g>`;
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = maxRead * f;
    return html`<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/><text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="tick">${int(v)}</text>`;
  });
  return html`<figure class="chart">
<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="${p}-title" preserveAspectRatio="xMidYMid meet">
<title id="${p}-title">Lines read per day, split into accepted, duplicates, rejected and other; blocked days marked</title>
<defs>
<pattern id="${p}-dup" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" class="pat-dup-bg"/><line x1="0" y1="0" x2="0" y2="6" class="pat-dup-line"/></pattern>
<pattern id="${p}-rej" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" class="pat-rej-bg"/><path d="M0 0L6 6M6 0L0 6" class="pat-rej-line"/></pattern>
<pattern id="${p}-oth" width="5" height="5" patternUnits="userSpaceOnUse"><rect width="5" height="5" class="pat-oth-bg"/><circle cx="2.5" cy="2.5" r="1" class="pat-oth-dot"/></pattern>
</defs>
${ticks}
<line x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}" class="axis"/>
<text x="12" y="${top - 10}" class="tick">lines read</text>
${bars}
<text x="${left - 6}" y="${top + plotH + 30}" text-anchor="end" class="tick">gate</text>
</svg>
<figcaption>
<ul class="legend">
<li><svg width="14" height="14" aria-hidden="true"><rect width="14" height="14" class="bar-accepted"/></svg> accepted</li>
<li><svg width="14" height="14" aria-hidden="true"><defs><pattern id="${p}-dup-l" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" class="pat-dup-bg"/><line x1="0" y1="0" x2="0" y2="6" class="pat-dup-line"/></pattern></defs><rect width="14" height="14" fill="url(#${p}-dup-l)" class="bar-dup"/></svg> duplicates (removed)</li>
<li><svg width="14" height="14" aria-hidden="true"><defs><pattern id="${p}-rej-l" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" class="pat-rej-bg"/><path d="M0 0L6 6M6 0L0 6" class="pat-rej-line"/></pattern></defs><rect width="14" height="14" fill="url(#${p}-rej-l)" class="bar-rej"/></svg> rejected (quarantined)</li>
<li><svg width="14" height="14" aria-hidden="true"><defs><pattern id="${p}-oth-l" width="5" height="5" patternUnits="userSpaceOnUse"><rect width="5" height="5" class="pat-oth-bg"/><circle cx="2.5" cy="2.5" r="1" class="pat-oth-dot"/></pattern></defs><rect width="14" height="14" fill="url(#${p}-oth-l)" class="bar-other"/></svg> other day / tenant / surface</li>
<li><span class="mark mark-published">✓</span> published · <span class="mark mark-blocked">✕</span> blocked by a gate · <span class="mark mark-not_published">–</span> not published · <span class="mark mark-not_ingested">∅</span> no data</li>
</ul>
</figcaption>
</figure>`;
}

function ingestSection(s: ScopeReport, idx: number): Markup {
  if (s.ingest.from === undefined) return html`<p class="empty">No ingest reports found in the staging area for this surface.</p>`;
  const reasons = [...new Set(s.ingest.days.flatMap((d) => (d.counts ? Object.keys(d.counts.rejected_by_reason) : [])))].sort();
  return html`${ingestChart(s, idx)}
<table class="ingest">
<caption>Ingest per day, ${s.ingest.from} to ${s.ingest.to}</caption>
<thead><tr><th scope="col">Day</th><th scope="col" class="num">Read</th><th scope="col" class="num">Accepted</th><th scope="col" class="num">Duplicates</th><th scope="col" class="num">Rejected</th>${reasons.map((r) => html`<th scope="col" class="num reason">${r.replace(/_/g, ' ')}</th>`)}<th scope="col" class="num">Other</th><th scope="col">Gate outcome</th></tr></thead>
<tbody>
${s.ingest.days.map((d) => {
  const c = d.counts;
  const o = OUTCOME[d.outcome];
  const cells = c
    ? html`<td class="num">${int(c.read)}</td><td class="num">${int(c.accepted)}</td><td class="num">${int(c.duplicates)}</td><td class="num">${int(c.rejected)}</td>${reasons.map((r) => html`<td class="num">${int(c.rejected_by_reason[r as keyof typeof c.rejected_by_reason] ?? 0)}</td>`)}<td class="num">${int(otherOf(c))}</td>`
    : html`<td class="num" colspan="${5 + reasons.length}"><span class="empty">not ingested</span></td>`;
  return html`<tr data-day="${d.day}" data-outcome="${d.outcome}" class="${d.outcome === 'blocked' ? 'row-blocked' : ''}">
<th scope="row">${d.day}</th>${cells}<td><span class="mark mark-${d.outcome}" aria-hidden="true">${o.symbol}</span> ${o.text}${d.gate ? html` <code>${d.gate}</code>` : ''}${d.message ? html`<div class="small msg">${d.message}</div>` : ''}</td>
</tr>`;
})}
</tbody>
</table>
<p class="small">A day is <em>blocked</em> when its stored counts fail the canonical gate under the configured limits; <em>not published</em> when it was ingested but no version with its window was published (another gate or limit stopped it, or it is still in progress).</p>`;
}

function timelineSvg(s: ScopeReport, idx: number): Markup {
  const events = s.timeline.flatMap((t) => t.events.map((e) => ({ key: t.key, e })));
  if (events.length === 0) return html``;
  const times = events.map(({ e }) => Date.parse(e.at));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const W = 880;
  const left = 130;
  const right = 20;
  const rowH = 26;
  const H = 30 + s.timeline.length * rowH + 10;
  const x = (t: number) => (t1 === t0 ? left + (W - left - right) / 2 : left + ((t - t0) / (t1 - t0)) * (W - left - right));
  const rows = s.timeline.map((t, i) => {
    const yy = 30 + i * rowH + rowH / 2;
    return html`<text x="${left - 10}" y="${yy + 4}" text-anchor="end" class="tick key">${t.key}</text><line x1="${left}" x2="${W - right}" y1="${yy}" y2="${yy}" class="grid"/>${t.events.map((e) => {
      const cx = x(Date.parse(e.at)).toFixed(1);
      const label = `#${e.seq} ${e.reason} ${when(e.at)}${e.to ? ` → ${shortV(e.to)}` : ''}${e.message ? ` (${e.message})` : ''}`;
      return e.reason === 'rollback'
        ? html`<g class="ev ev-rollback"><title>${label}</title><path d="M${cx} ${yy - 7}L${Number(cx) + 7} ${yy}L${cx} ${yy + 7}L${Number(cx) - 7} ${yy}Z"/></g>`
        : html`<g class="ev ev-publish"><title>${label}</title><circle cx="${cx}" cy="${yy}" r="5.5"/></g>`;
    })}`;
  });
  return html`<figure class="chart timeline-chart">
<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="tl${idx}-title">
<title id="tl${idx}-title">Pointer changes per key over time: circles are publishes, diamonds are rollbacks</title>
<text x="${left}" y="16" class="tick">${when(new Date(t0).toISOString())}</text>
<text x="${W - right}" y="16" text-anchor="end" class="tick">${when(new Date(t1).toISOString())}</text>
${rows}
</svg>
<figcaption><ul class="legend"><li><svg width="14" height="14" aria-hidden="true"><circle cx="7" cy="7" r="5.5" class="ev-publish-l"/></svg> publish</li><li><svg width="14" height="14" aria-hidden="true"><path d="M7 0L14 7L7 14L0 7Z" class="ev-rollback-l"/></svg> rollback</li></ul></figcaption>
</figure>`;
}

function notesText(notes: Readonly<Record<string, unknown>> | undefined): Markup {
  if (!notes) return html``;
  return html`${Object.entries(notes).map(([k, v]) => html`<div class="note"><span class="tag">${k.replace(/_/g, ' ')}</span> ${typeof v === 'string' ? v : JSON.stringify(v)}</div>`)}`;
}

function eventRow(e: TimelineEvent): Markup {
  const what = e.change === 'removed' ? html`removed (was <code>${shortV(e.from ?? '')}</code>)` : html`${e.from ? html`<code>${shortV(e.from)}</code> → ` : 'new: '}<code title="${e.to ?? ''}">${shortV(e.to ?? '')}</code>`;
  return html`<tr class="ev-${e.reason}" data-reason="${e.reason}">
<td>#${e.seq}</td><td>${when(e.at)}</td><td><span class="reason reason-${e.reason}">${e.reason === 'rollback' ? '↺ rollback' : '● publish'}</span></td><td>${what}</td><td>${windowText(e.window)}</td><td>${e.message ?? ''}${notesText(e.notes)}</td>
</tr>`;
}

function historySection(s: ScopeReport, idx: number): Markup {
  if (s.timeline.length === 0) return html`<p class="empty">No pointer changes recorded.</p>`;
  const shown = s.history.entries.length;
  return html`${timelineSvg(s, idx)}
${s.timeline.map(
  (t) => html`<table class="timeline" data-key="${t.key}">
<caption>History of <code>${t.key}</code>, newest first</caption>
<thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">What</th><th scope="col">Version</th><th scope="col">Window</th><th scope="col">Reason / notes</th></tr></thead>
<tbody>${t.events.map(eventRow)}</tbody>
</table>`,
)}
<p class="small">${shown < s.history.total ? `Showing the newest ${shown} of ${s.history.total} history entries.` : `All ${s.history.total} history entries.`}</p>`;
}

function scopeSection(s: ScopeReport, idx: number, maxAge: number): Markup {
  const id = slug(s);
  return html`<section class="scope" id="${id}" data-tenant="${s.tenant}" data-surface="${s.surface}" aria-labelledby="${id}-h">
<h2 id="${id}-h"><span class="scope-name">${s.tenant} / ${s.surface}</span> ${badge(s.freshness.fresh)}</h2>
<p class="small">Manifest: <code class="uri">${s.manifest_uri}</code></p>
<div class="cards">${freshnessCard(s, maxAge)}${rollbackBox(s)}</div>
<section class="part live-part"><h3>What is live</h3>${liveTable(s)}</section>
<section class="part top-part"><h3>Top items</h3>${topItems(s)}</section>
<section class="part nb-part"><h3>Strongest neighbours</h3>${neighborsTable(s)}</section>
<section class="part ingest-part"><h3>Ingest, last ${s.ingest.days.length} days</h3>${ingestSection(s, idx)}</section>
<section class="part history-part"><h3>History</h3>${historySection(s, idx)}</section>
</section>`;
}

const CSS = `
:root{--fg:#1f2328;--muted:#57606a;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;--fresh:#116329;--fresh-bg:#dafbe1;--stale:#a40e26;--stale-bg:#ffebe9;--acc:#2f5fb3;--dup:#8c959f;--rej:#c4314b;--oth:#afb8c1}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
.wrap{max-width:1200px;margin:0 auto;padding:24px 32px 48px}
h1{font-size:28px;margin:0 0 4px}
h2{font-size:22px;margin:0 0 4px;display:flex;align-items:center;gap:12px;flex-wrap:wrap}
h3{font-size:17px;margin:0 0 8px}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:8px 10px;white-space:pre-wrap;overflow-wrap:anywhere;margin:4px 0 8px}
.small{font-size:13px;color:var(--muted)}
.empty{color:var(--muted);font-style:italic}
.lead{color:var(--muted);margin:0 0 16px}
.badge{display:inline-block;font-size:13px;font-weight:700;letter-spacing:.04em;padding:2px 10px;border-radius:999px;border:2px solid;vertical-align:middle;white-space:nowrap}
.badge.fresh{color:var(--fresh);background:var(--fresh-bg);border-color:var(--fresh)}
.badge.stale{color:var(--stale);background:var(--stale-bg);border-color:var(--stale);border-style:dashed}
.summary{margin:16px 0 24px}
nav.toc ul{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:8px 20px}
section.scope{border-top:3px solid var(--fg);padding-top:16px;margin-top:32px}
.cards{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.4fr);gap:16px;margin:12px 0 20px}
.card{border:1px solid var(--line);border-radius:8px;padding:14px 16px;background:var(--bg)}
.card.is-stale{border:2px dashed var(--stale);background:#fffafa}
.card.rollback{background:var(--soft)}
.card.rollback ol{padding-left:20px;margin:8px 0}
.big .badge{font-size:16px;padding:4px 14px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}
dt{color:var(--muted)}dd{margin:0;font-weight:600}
.why{margin:8px 0 0}
.gauge{display:block;max-width:100%;height:auto;margin:8px 0}
.gauge-track{fill:#eaeef2}.gauge-fresh{fill:var(--fresh)}.gauge-stale{fill:var(--stale)}
.gauge-slo{stroke:var(--fg);stroke-width:2;stroke-dasharray:3 2}.gauge-label{font-size:10px;fill:var(--muted)}
section.part{margin:20px 0}
table{border-collapse:collapse;width:100%;margin:4px 0 8px;font-size:14px}
caption{text-align:left;font-weight:600;padding:4px 0;color:var(--muted)}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
thead th{background:var(--soft);border-bottom:2px solid var(--line);font-weight:600}
tbody th{font-weight:500}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.id,.uri{overflow-wrap:anywhere;word-break:break-word}
.barcol{width:24%}
.bar-accepted{fill:var(--acc)}
.bar-dup{stroke:var(--dup);stroke-width:.6}.pat-dup-bg{fill:#eef0f2}.pat-dup-line{stroke:#57606a;stroke-width:2}
.bar-rej{stroke:var(--rej);stroke-width:.6}.pat-rej-bg{fill:#fde2e5}.pat-rej-line{stroke:var(--rej);stroke-width:1.2}
.bar-other{stroke:var(--oth);stroke-width:.6}.pat-oth-bg{fill:#f6f8fa}.pat-oth-dot{fill:#6e7781}
.chg{white-space:nowrap;font-weight:600}.chg.up{color:var(--fresh)}.chg.down{color:var(--stale)}.chg.new{color:#8250df}.chg.same,.chg.unknown{color:var(--muted)}
ol.nb{margin:0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:4px 8px}
ol.nb li{background:var(--soft);border:1px solid var(--line);border-radius:4px;padding:0 6px}
.cnt{color:var(--muted);font-variant-numeric:tabular-nums}
figure.chart{margin:8px 0}
figure.chart svg{display:block;max-width:100%;height:auto}
.tick{font-size:11px;fill:var(--muted)}.tick.key{font-size:12px;fill:var(--fg)}
.grid{stroke:#eaeef2;stroke-width:1}.axis{stroke:var(--fg);stroke-width:1}
.blocked-outline{fill:none;stroke:var(--stale);stroke-width:2;stroke-dasharray:4 2}
.blocked-label{font-size:11px;font-weight:700;fill:var(--stale)}
.mark{font-weight:700}
text.mark{font-size:13px}
.mark-published{color:var(--fresh);fill:var(--fresh)}.mark-blocked{color:var(--stale);fill:var(--stale)}.mark-not_published,.mark-not_ingested{color:var(--muted);fill:var(--muted)}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px;padding:0;margin:4px 0;font-size:13px;color:var(--muted)}
.legend svg,figure.chart .legend svg{display:inline-block;vertical-align:-2px;margin-right:4px}
table.ingest tbody th,table.timeline td:nth-child(2){white-space:nowrap}
tr.row-blocked{background:var(--stale-bg)}
tr.row-blocked th{box-shadow:inset 4px 0 0 var(--stale)}
.msg{max-width:60ch;overflow-wrap:anywhere}
th.reason{white-space:normal}
.ev-publish circle,.ev-publish-l{fill:var(--acc)}
.ev-rollback path,.ev-rollback-l{fill:#bc4c00}
.reason{white-space:nowrap;font-weight:600}.reason-rollback{color:#bc4c00}.reason-publish{color:var(--acc)}
.note{margin-top:2px}.tag{display:inline-block;font-size:12px;border:1px solid var(--line);border-radius:4px;padding:0 4px;background:var(--soft)}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
footer{margin-top:40px;color:var(--muted);font-size:13px}
@media (max-width:900px){.cards{grid-template-columns:1fr}.wrap{padding:16px}}
@page{size:A4;margin:12mm}
@media print{
  body{font-size:10pt;-webkit-print-color-adjust:exact;print-color-adjust:exact}
  .wrap{max-width:none;padding:0}
  nav.toc{display:none}
  section.scope{break-before:page;border-top:none;margin-top:0}
  section.scope:first-of-type{break-before:auto}
  table,figure,.card,tr{break-inside:avoid}
  h2,h3{break-after:avoid}
  .cards{grid-template-columns:1fr 1.3fr}
  table{font-size:9pt}
  th,td{padding:3px 4px}
  pre{font-size:8pt}
}
`;

/**
 * Renders the report as one self-contained HTML document (DESIGN §10).
 * @since 0.1.0
 */
export function renderReportHtml(doc: ReportDocument, options: { readonly tool?: string } = {}): string {
  const staleCount = doc.scopes.filter((s) => !s.freshness.fresh).length;
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="${options.tool ?? 'recsys-pipelines'}">
<title>Recommendation artifacts report — ${when(doc.generated_at)}</title>
<style>${new Markup(CSS)}</style>
</head>
<body>
<div class="wrap">
<header>
<h1>Recommendation artifacts report</h1>
<p class="lead">What recsys-service is serving, how fresh it is, what changed and how to roll back. Generated ${when(doc.generated_at)}; freshness SLO ${duration(doc.max_age_seconds)}.</p>
</header>
<section class="summary" aria-labelledby="summary-h">
<h2 id="summary-h">Summary ${doc.scopes.length === 0 ? badge(false, 'NOTHING PUBLISHED') : staleCount > 0 ? badge(false, `${staleCount} STALE`) : badge(true, 'ALL FRESH')}</h2>
${
  doc.scopes.length === 0
    ? html`<p class="empty">The registry has no manifest: nothing is published.</p>`
    : html`<table class="summary-table">
<caption>Every tenant/surface in this report</caption>
<thead><tr><th scope="col">Tenant / surface</th><th scope="col">Freshness</th><th scope="col" class="num">Age</th><th scope="col">Live keys</th><th scope="col">Last change</th></tr></thead>
<tbody>
${doc.scopes.map((s) => {
  const f = s.freshness as ScopeReport['freshness'] & { data_age_seconds?: number };
  const age = f.data_age_seconds ?? f.age_seconds;
  return html`<tr data-scope="${s.tenant}/${s.surface}"><th scope="row"><a href="#${slug(s)}">${s.tenant} / ${s.surface}</a></th><td>${badge(f.fresh)}</td><td class="num">${age === undefined ? '—' : duration(age)}</td><td>${s.live.map((a, i) => html`${i > 0 ? ', ' : ''}<code>${a.key}</code>`)}</td><td>${f.last_history ? `#${f.last_history.seq} ${f.last_history.reason}, ${when(f.last_history.at)}` : '—'}</td></tr>`;
})}
</tbody>
</table>`
}
</section>
${doc.scopes.map((s, i) => scopeSection(s, i, doc.max_age_seconds))}
<footer>Generated by ${options.tool ?? 'recsys-pipelines'} at ${doc.generated_at}. This file is self-contained: it loads nothing from the network. The same data: <code>recsys-pipelines report --json</code>.</footer>
</div>
</body>
</html>
`;
  return page.text;
}
