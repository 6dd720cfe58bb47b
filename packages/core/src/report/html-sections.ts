import { gauge, ingestChart, timelineSvg } from './html-charts.js';
import { bytes, duration, int, OUTCOME, otherOf, shortV, slug, when, windowText } from './html-format.js';
import { html, type Markup } from './html-markup.js';
import type { ScopeReport, TimelineEvent, TopItemRow } from './report-types.js';

/*
 * The sections of the report HTML, one per part of a tenant/surface: the
 * freshness and rollback cards, what is live, top items, neighbours, ingest
 * and history. Badges carry words and symbols, never colour alone.
 */

/** The FRESH / STALE badge (`text` replaces the word). */
export function badge(fresh: boolean, text?: string): Markup {
  return fresh ? html`<span class="badge fresh" data-state="fresh"><span aria-hidden="true">✓</span> ${text ?? 'FRESH'}</span>` : html`<span class="badge stale" data-state="stale"><span aria-hidden="true">⚠</span> ${text ?? 'STALE'}</span>`;
}

/** Freshness: the age against the SLO as a bar, with the numbers in words. */
function freshnessCard(s: ScopeReport, maxAge: number): Markup {
  const f = s.freshness as ScopeReport['freshness'] & { data_age_seconds?: number; window_end?: string };
  const age = f.data_age_seconds ?? f.age_seconds;
  const ageLabel = f.data_age_seconds !== undefined ? 'Data age (now − end of live window)' : 'Manifest age (since last change)';
  return html`<div class="card freshness ${f.fresh ? 'is-fresh' : 'is-stale'}">
<h3>Freshness</h3>
<p class="big">${badge(f.fresh)}</p>
${gauge(f.fresh, age, maxAge)}
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

/** One tenant/surface: its cards and parts. */
export function scopeSection(s: ScopeReport, idx: number, maxAge: number): Markup {
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
