import type { IngestCounts } from '../ingest/ingest-day.js';
import { duration, int, OUTCOME, otherOf, shortV, when } from './html-format.js';
import { html, type Markup } from './html-markup.js';
import type { ScopeReport } from './report-types.js';

/*
 * The inline SVG charts of the report. Every chart has a table with the
 * same numbers next to it (html-sections.ts), and no state is told by colour
 * alone: chart series carry patterns, blocked days carry a mark and a label.
 */

/** The freshness gauge: the age against the SLO as a bar (`age` undefined when unknown). */
export function gauge(fresh: boolean, age: number | undefined, maxAge: number): Markup {
  const ratio = age === undefined ? 1 : Math.min(age / maxAge, 2);
  const W = 320;
  const sloX = W / 2;
  const barW = Math.max(2, Math.round((ratio / 2) * W));
  return html`<svg class="gauge" viewBox="0 0 ${W} 34" width="${W}" height="34" role="img" aria-label="${age === undefined ? 'age unknown' : `age ${duration(age)} of a ${duration(maxAge)} SLO`}">
<rect x="0" y="6" width="${W}" height="14" class="gauge-track"/>
<rect x="0" y="6" width="${barW}" height="14" class="${fresh ? 'gauge-fresh' : 'gauge-stale'}"/>
<line x1="${sloX}" y1="2" x2="${sloX}" y2="24" class="gauge-slo"/>
<text x="${sloX}" y="33" text-anchor="middle" class="gauge-label">SLO ${duration(maxAge)}</text>
</svg>`;
}

/** A round axis maximum: 1, 2 or 5 times a power of ten. */
function niceMax(n: number): number {
  if (n <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

/** The ingest chart: lines read per day as stacked bars, blocked days marked. */
export function ingestChart(s: ScopeReport, idx: number): Markup {
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

/** Pointer changes per key over time: circles are publishes, diamonds rollbacks. */
export function timelineSvg(s: ScopeReport, idx: number): Markup {
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
