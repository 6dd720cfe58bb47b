import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { ContractValidationError, parseManifest, parsePopularityArtifact, safeParseCanonicalExposure, safeParseManifest, safeParseRawExposureEvent } from '../src/index.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('ContractValidationError', () => {
  it('lists every issue with its JSON path in the message', () => {
    const error = thrown(() =>
      parseManifest({
        v: 2,
        tenant: '..',
        surface: 'home',
        current: { 'popularity@default': 'file:///a.json', cooc: 'http://x', 'sp ace': 's3://b/k' },
        updated_at: '2026-02-30T00:00:00Z',
        previous: {},
        'odd key': 1,
      }),
    );
    expect(ContractValidationError.isInstance(error)).toBe(true);
    const e = error as ContractValidationError;
    expect(e.contract).toBe('manifest.v1');
    expect(e.issues.map((i) => i.path)).toEqual([
      '$.v',
      '$.tenant',
      '$.current["popularity@default"]',
      '$.current.cooc',
      '$.current["sp ace"]',
      '$.updated_at',
      '$.previous',
      '$["odd key"]',
    ]);
    const lines = e.message.split('\n');
    expect(lines[0]).toBe('invalid manifest.v1 (8 issues):');
    expect(lines.slice(1)).toEqual(e.issues.map((i) => `  - ${i.path}: ${i.message}`));
    expect(e.message).toContain('$.tenant: must not be ".."');
    expect(e.message).toContain('$.previous: unknown field "previous"');
    expect(e.message).toContain('$.updated_at: must be a valid calendar date and time');
  });

  it('reports nested array paths and missing fields', () => {
    const e = thrown(() =>
      parsePopularityArtifact({
        v: 1,
        artifact_type: 'popularity',
        tenant: 'demo',
        surface: 'home',
        window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' },
        items: [{ item_id: 'A', count: 1 }, { item_id: 'B', count: -1 }, { count: 2 }],
      }),
    ) as ContractValidationError;
    expect(e.issues).toEqual([
      { path: '$.items[1].count', code: 'too_small', message: expect.any(String) },
      { path: '$.items[2].item_id', code: 'invalid_type', message: 'required field is missing (expected string)' },
      { path: '$.build', code: 'invalid_type', message: 'required field is missing (expected object)' },
    ]);
    expect(e.message).toMatch(/^invalid popularity\.v1 \(3 issues\):\n {2}- \$\.items\[1\]\.count: /);
  });

  it('uses the singular for one issue and $ for the root', () => {
    const result = safeParseRawExposureEvent('not an object');
    expect(result.success).toBe(false);
    if (!result.success) expect(result.error.message).toBe('invalid raw_exposure_event.v1 (1 issue):\n  - $: Invalid input: expected object, received string');
  });

  it('has a stable name and code, the zod error as cause, and works across package copies', () => {
    const result = safeParseCanonicalExposure({});
    expect(result.success).toBe(false);
    if (result.success) return;
    const { error } = result;
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ContractValidationError');
    expect(error.code).toBe('CONTRACT_VALIDATION');
    expect(error.cause).toBeInstanceOf(ZodError);
    const foreign = Object.assign(new Error('x'), { [Symbol.for('@recsys/contracts.error')]: true });
    expect(ContractValidationError.isInstance(foreign)).toBe(true);
    expect(ContractValidationError.isInstance(new Error('x'))).toBe(false);
    expect(ContractValidationError.isInstance(undefined)).toBe(false);
  });

  it('never throws from safeParse, whatever the input', () => {
    for (const input of [undefined, null, 0, '', [], {}, Symbol('x'), () => 1, new Date(), Object.create(null)]) {
      expect(() => safeParseRawExposureEvent(input)).not.toThrow();
    }
  });
});

describe('README', () => {
  it('shows the real error message format', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const shown = /```text\n([\s\S]*?)\n```/.exec(readme)![1];
    const result = safeParseManifest({ v: 1, tenant: 'demo', surface: 'home', current: { 'popularity@default': 'file:///a.json' }, updated_at: '2026-01-01T00:00:00Z', extra: 1 });
    expect(result.success).toBe(false);
    if (!result.success) expect(result.error.message).toBe(shown);
  });
});

describe('__proto__ keys', () => {
  it('are rejected wherever they appear (zod would silently drop them)', () => {
    const manifest = JSON.parse(
      '{"v":1,"tenant":"t","surface":"s","current":{"__proto__":"s3://bucket/k.json","popularity":"s3://bucket/p.json"},"updated_at":"2026-01-01T00:00:00Z"}',
    ) as unknown;
    const result = safeParseManifest(manifest);
    expect(result.success).toBe(false);
    if (!result.success) expect(result.error.issues).toEqual([{ path: '$.current.__proto__', code: 'unrecognized_keys', message: 'unknown field "__proto__"' }]);
    const event = JSON.parse('{"v":1,"ts":"2026-01-01T00:00:00Z","tenant":"t","surface":"s","session_id":"x","item_id":"i","__proto__":{"rank":1}}') as unknown;
    const r2 = safeParseRawExposureEvent(event);
    expect(r2.success).toBe(false);
    if (!r2.success) expect(r2.error.issues.map((i) => i.path)).toEqual(['$.__proto__']);
  });
});
