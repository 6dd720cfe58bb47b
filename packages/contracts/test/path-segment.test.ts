import { describe, expect, it } from 'vitest';
import {
  InvalidPathSegmentError,
  PATH_SEGMENT_MAX_LENGTH,
  assertPathSegment,
  isValidPathSegment,
  pathSegmentProblem,
  safeParseManifest,
} from '../src/index.js';

const INVALID: [string, unknown, RegExp][] = [
  ['..', '..', /must not be "\.\."/],
  ['.', '.', /must not be "\."/],
  ['a/b', 'a/b', /may only contain/],
  ['%2e%2e', '%2e%2e', /may only contain/],
  ['backslash', 'a\\b', /may only contain/],
  ['empty', '', /must not be empty/],
  ['129 chars', 'a'.repeat(129), /at most 128 characters \(got 129\)/],
  ['NUL', 'a\u0000b', /may only contain/],
  ['unicode', 'café', /may only contain/],
  ['space', 'a b', /may only contain/],
  ['trailing newline', 'abc\n', /may only contain/],
  ['number', 42, /must be a string/],
  ['undefined', undefined, /must be a string/],
];

const VALID = ['a.b_c-D9', 'default', 'a', '...', '..a', '.hidden', 'a..b', '-', '_', 'a'.repeat(128), '2026-01-01'];

describe('path segments', () => {
  it.each(INVALID)('rejects %s', (_name, value, problem) => {
    expect(isValidPathSegment(value)).toBe(false);
    expect(pathSegmentProblem(value)).toMatch(problem);
    expect(() => assertPathSegment('tenant', value)).toThrow(InvalidPathSegmentError);
  });

  it.each(VALID)('accepts %j', (value) => {
    expect(isValidPathSegment(value)).toBe(true);
    expect(pathSegmentProblem(value)).toBeUndefined();
    expect(assertPathSegment('segment', value)).toBe(value);
  });

  it('exposes the maximum length', () => {
    expect(PATH_SEGMENT_MAX_LENGTH).toBe(128);
  });

  it('names the field and value in the error, recognisable across package copies', () => {
    let caught: unknown;
    try {
      assertPathSegment('surface', '../etc');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(InvalidPathSegmentError.isInstance(caught)).toBe(true);
    const error = caught as InvalidPathSegmentError;
    expect(error.message).toBe('invalid surface "../etc": may only contain letters, digits, ".", "_" and "-"');
    expect(error).toMatchObject({ name: 'InvalidPathSegmentError', code: 'INVALID_PATH_SEGMENT', field: 'surface', value: '../etc' });
    // A structurally identical error from another copy of the package.
    const foreign = Object.assign(new Error('x'), { [Symbol.for('@recsys/contracts.invalid-path-segment')]: true });
    expect(InvalidPathSegmentError.isInstance(foreign)).toBe(true);
    expect(InvalidPathSegmentError.isInstance(new Error('x'))).toBe(false);
    expect(InvalidPathSegmentError.isInstance(null)).toBe(false);
  });

  it('is the rule the schemas apply to tenant and surface', () => {
    const manifest = (tenant: string) => ({ v: 1, tenant, surface: 'home', current: {}, updated_at: '2026-01-01T00:00:00Z' });
    for (const [, value] of INVALID) {
      if (typeof value !== 'string') continue;
      const result = safeParseManifest(manifest(value));
      expect(result.success, value).toBe(false);
      if (!result.success) expect(result.error.issues).toEqual([expect.objectContaining({ path: '$.tenant', message: pathSegmentProblem(value) })]);
    }
    for (const value of VALID) expect(safeParseManifest(manifest(value)).success, value).toBe(true);
  });
});
