import { describe, expect, test } from 'vitest';
import { RecsysError } from '../errors.js';
import {
  DEFAULT_VOLUME_ANOMALY,
  GatesConfigSchema,
  resolveVolumeAnomaly,
  acceptVolumeAnomaly,
  evaluateVolumeGate,
  median,
  volumeGateError,
  volumeLookbackDays,
  type VolumeHistoryDay,
  type VolumeOutcome,
} from './volume-anomaly.js';

const config = DEFAULT_VOLUME_ANOMALY;

/** `n` passed days ending the day before 2026-01-20, each with `events` events and `items` items. */
function history(n: number, events = 1000, items = 200, outcome: VolumeOutcome = 'pass'): VolumeHistoryDay[] {
  return volumeLookbackDays('2026-01-20', { lookback_days: n }).map((day) => ({ day, volume: { accepted_events: events, distinct_items: items }, outcome }));
}

describe('volume-anomaly gate', () => {
  test('lookback is the calendar days before the day, oldest first', () => {
    expect(volumeLookbackDays('2026-03-01', { lookback_days: 3 })).toEqual(['2026-02-26', '2026-02-27', '2026-02-28']);
  });

  test('median of odd and even counts', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 10])).toBe(3.5);
    expect(() => median([])).toThrow(RangeError);
  });

  for (const days of [3, 7, 10]) {
    describe(`with ${days} days of history`, () => {
      const h = history(days);
      // With 10 recorded days, only the 7 inside the lookback count.
      const used = Math.min(days, config.lookback_days);

      test('a normal day passes, compared with the passed days of the lookback', () => {
        const r = evaluateVolumeGate('2026-01-20', { accepted_events: 1100, distinct_items: 190 }, h, config);
        expect(r.outcome).toBe('pass');
        expect(r.history_days).toHaveLength(used);
        expect(r.history_days.at(-1)).toBe('2026-01-19');
        expect(r.checks.map((c) => [c.measure, c.median, c.expected.min, c.expected.max, c.ok])).toEqual([
          ['accepted_events', 1000, 500, 3000, true],
          ['distinct_items', 200, 100, 600, true],
        ]);
      });

      test('a drop below half the median blocks, naming measure, observed value and range', () => {
        const r = evaluateVolumeGate('2026-01-20', { accepted_events: 499, distinct_items: 200 }, h, config);
        expect(r.outcome).toBe('blocked');
        const error = volumeGateError(r, config);
        expect(RecsysError.isInstance(error)).toBe(true);
        expect(error.exitCode).toBe(3);
        expect(error.message).toContain('accepted_events 499 outside the expected range [500, 3000]');
        expect(error.message).not.toContain('distinct_items');
        expect(error.message).toContain('--accept-anomaly');
        expect(error.context).toMatchObject({ gate: 'volume_anomaly', day: '2026-01-20', measures: [{ measure: 'accepted_events', observed: 499, expected: { min: 500, max: 3000 } }] });
      });

      test('a spike above three times the median blocks', () => {
        const r = evaluateVolumeGate('2026-01-20', { accepted_events: 3001, distinct_items: 300 }, h, config);
        expect(r.outcome).toBe('blocked');
        expect(volumeGateError(r, config).message).toContain('accepted_events 3001 outside the expected range [500, 3000]');
      });

      test('a distinct-item collapse blocks even when events are normal', () => {
        const r = evaluateVolumeGate('2026-01-20', { accepted_events: 1000, distinct_items: 12 }, h, config);
        expect(r.outcome).toBe('blocked');
        expect(r.checks.filter((c) => !c.ok).map((c) => c.measure)).toEqual(['distinct_items']);
        expect(volumeGateError(r, config).message).toContain('distinct_items 12 outside the expected range [100, 600]');
      });

      test('the bounds are inclusive', () => {
        expect(evaluateVolumeGate('2026-01-20', { accepted_events: 500, distinct_items: 600 }, h, config).outcome).toBe('pass');
        expect(evaluateVolumeGate('2026-01-20', { accepted_events: 3000, distinct_items: 100 }, h, config).outcome).toBe('pass');
      });

      test('acceptance turns a block into an accepted day and keeps the checks', () => {
        const r = acceptVolumeAnomaly(evaluateVolumeGate('2026-01-20', { accepted_events: 10, distinct_items: 2 }, h, config));
        expect(r.outcome).toBe('accepted');
        expect(r.checks.every((c) => !c.ok)).toBe(true);
      });
    });
  }

  test('fewer passed days than min_history_days: pass, noted', () => {
    const r = evaluateVolumeGate('2026-01-20', { accepted_events: 1, distinct_items: 1 }, history(2), config);
    expect(r.outcome).toBe('insufficient_history');
    expect(r.checks).toEqual([]);
    expect(r.note).toContain('2 passed day(s)');
  });

  test('blocked days do not count as history; accepted and unchecked ones do', () => {
    const blocked = history(7, 10, 2, 'blocked');
    expect(evaluateVolumeGate('2026-01-20', { accepted_events: 1000, distinct_items: 200 }, blocked, config).outcome).toBe('insufficient_history');
    const outcomes: VolumeOutcome[] = ['accepted', 'accepted', 'accepted', 'blocked', 'blocked', 'insufficient_history', 'off'];
    const mixed = history(7).map((d, k) => ({ ...d, outcome: outcomes[k]!, volume: outcomes[k] === 'blocked' ? { accepted_events: 10, distinct_items: 2 } : d.volume }));
    const r = evaluateVolumeGate('2026-01-20', { accepted_events: 1000, distinct_items: 200 }, mixed, config);
    expect(r.outcome).toBe('pass');
    expect(r.history_days).toEqual(['2026-01-13', '2026-01-14', '2026-01-15', '2026-01-18', '2026-01-19']);
  });

  test('days outside the lookback, and the day itself or later, are ignored', () => {
    const old = history(30).slice(0, 23); // 2025-12-21 .. 2026-01-12
    const later = [{ day: '2026-01-20', volume: { accepted_events: 5, distinct_items: 5 }, outcome: 'pass' as const }, { day: '2026-01-21', volume: { accepted_events: 5, distinct_items: 5 }, outcome: 'pass' as const }];
    const r = evaluateVolumeGate('2026-01-20', { accepted_events: 1, distinct_items: 1 }, [...old, ...later], config);
    expect(r.outcome).toBe('insufficient_history');
    expect(r.history_days).toEqual([]);
  });

  test('the median resists one outlier day in the history', () => {
    const h = history(7);
    const withOutlier = h.map((d, k) => (k === 3 ? { ...d, volume: { accepted_events: 100_000, distinct_items: 5000 } } : d));
    expect(evaluateVolumeGate('2026-01-20', { accepted_events: 1000, distinct_items: 200 }, withOutlier, config).outcome).toBe('pass');
  });

  test('switched off: never blocks, still records what it saw', () => {
    const r = evaluateVolumeGate('2026-01-20', { accepted_events: 1, distinct_items: 1 }, history(7), { ...config, enabled: false });
    expect(r.outcome).toBe('off');
    expect(r.observed).toEqual({ accepted_events: 1, distinct_items: 1 });
  });

  test('custom ratios and min_history_days', () => {
    const tight = { ...config, min_ratio: 0.9, max_ratio: 1.1, min_history_days: 1, lookback_days: 2 };
    const h = history(1);
    expect(evaluateVolumeGate('2026-01-20', { accepted_events: 1101, distinct_items: 200 }, h, tight).outcome).toBe('blocked');
    expect(evaluateVolumeGate('2026-01-20', { accepted_events: 1100, distinct_items: 200 }, h, tight).outcome).toBe('pass');
  });

  test('a fractional range prints rounded in the message', () => {
    const h = history(3, 3, 3);
    const r = evaluateVolumeGate('2026-01-20', { accepted_events: 1, distinct_items: 3 }, h, config);
    expect(volumeGateError(r, config).message).toContain('accepted_events 1 outside the expected range [1.5, 9]');
  });
});

describe('config gates.volume_anomaly', () => {
  test('absent keys take the defaults; enabled: false switches the gate off', () => {
    expect(resolveVolumeAnomaly()).toEqual(DEFAULT_VOLUME_ANOMALY);
    expect(resolveVolumeAnomaly(GatesConfigSchema.parse({ volume_anomaly: { enabled: false, lookback_days: 28 } }).volume_anomaly)).toEqual({ ...DEFAULT_VOLUME_ANOMALY, enabled: false, lookback_days: 28 });
  });

  test.each([
    [{ volume_anomaly: { lookback_days: 0 } }, 'lookback_days'],
    [{ volume_anomaly: { min_ratio: 1.5 } }, 'min_ratio'],
    [{ volume_anomaly: { max_ratio: 0.9 } }, 'max_ratio'],
    [{ volume_anomaly: { min_history_days: 8 } }, 'min_history_days'],
    [{ volume_anomaly: { lookback_days: 2 } }, 'min_history_days'],
    [{ volume_anomaly: { min_ratoi: 0.2 } }, ''],
    [{ volume: {} }, ''],
  ])('%j is refused, naming %s', (input, key) => {
    const r = GatesConfigSchema.safeParse(input);
    expect(r.success).toBe(false);
    if (key) expect(r.error!.issues.map((i) => i.path.join('.'))).toContain(`volume_anomaly.${key}`);
  });
});
