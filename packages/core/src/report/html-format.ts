import type { IngestCounts } from '../ingest/ingest-day.js';
import type { IngestDayRow, ScopeReport } from './report-types.js';

/* Formatting of numbers, times and names in the report HTML. */

/** 1234567 → "1,234,567" (fixed, not the viewer's locale: the file is shared). */
export function int(n: number): string {
  const s = String(Math.round(Math.abs(n)));
  return (n < 0 ? '-' : '') + s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function bytes(n: number): string {
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

export function duration(seconds: number): string {
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
export function when(iso: string | undefined): string {
  if (iso === undefined) return '—';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

export function windowText(w: { readonly start: string; readonly end: string } | undefined): string {
  if (!w) return '—';
  const start = w.start.slice(0, 10);
  const lastMs = Date.parse(w.end) - 1;
  const last = Number.isFinite(lastMs) ? new Date(lastMs).toISOString().slice(0, 10) : w.end;
  return start === last ? start : `${start} → ${last}`;
}

export const shortV = (v: string) => v.slice(0, 12);

export function slug(s: ScopeReport): string {
  return `scope-${s.tenant}-${s.surface}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

export const OUTCOME: Record<IngestDayRow['outcome'], { symbol: string; text: string }> = {
  published: { symbol: '✓', text: 'published' },
  blocked: { symbol: '✕', text: 'blocked' },
  not_published: { symbol: '–', text: 'not published' },
  not_ingested: { symbol: '∅', text: 'no data' },
};

export function otherOf(c: IngestCounts): number {
  return c.out_of_window + c.other_scope + (c.other_shard ?? 0);
}
