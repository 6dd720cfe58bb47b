import { describe, expect, it } from 'vitest';
import {
  ARTIFACT_TYPES,
  DEFAULT_SEGMENT,
  MANIFEST_KEY_PATTERN,
  isArtifactType,
  manifestKey,
  parseManifestKey,
  safeParseManifest,
} from '../src/index.js';

describe('manifestKey', () => {
  it.each([
    ['popularity', undefined, 'popularity'],
    ['popularity', '', 'popularity'],
    ['popularity', 'default', 'popularity'],
    ['cooc', 'mobile', 'cooc@mobile'],
    ['session_seq', 'new_users.v2', 'session_seq@new_users.v2'],
    ['content_sim', 'Default', 'content_sim@Default'],
  ])('(%j, %j) → %j', (type, segment, key) => {
    expect(manifestKey(type, segment)).toBe(key);
  });
});

describe('parseManifestKey', () => {
  it.each([
    ['popularity', { type: 'popularity', segment: 'default' }],
    ['cooc@mobile', { type: 'cooc', segment: 'mobile' }],
    ['implicit@a.b_c-D9', { type: 'implicit', segment: 'a.b_c-D9' }],
    ['future_type@x', { type: 'future_type', segment: 'x' }],
  ])('%j → %j', (key, parts) => {
    expect(parseManifestKey(key)).toEqual(parts);
  });

  it.each([
    ['popularity@default', 'the default segment has a bare key'],
    ['popularity@', 'empty segment'],
    ['popularity@..', 'dot-dot segment'],
    ['popularity@.', 'dot segment'],
    ['popularity@a/b', 'slash in segment'],
    ['popularity@a@b', 'two @'],
    ['Popularity', 'upper-case type'],
    ['', 'empty key'],
    ['@mobile', 'no type'],
    ['1pop', 'type starts with a digit'],
    [`popularity@${'a'.repeat(129)}`, '129-character segment'],
  ])('rejects %j (%s)', (key) => {
    expect(parseManifestKey(key)).toBeUndefined();
  });

  it('round-trips manifestKey for every type and a few segments', () => {
    for (const type of ARTIFACT_TYPES) {
      for (const segment of [DEFAULT_SEGMENT, 'mobile', 'a.b_c-D9']) {
        expect(parseManifestKey(manifestKey(type, segment))).toEqual({ type, segment });
      }
    }
  });

  it('agrees with the manifest schema and MANIFEST_KEY_PATTERN', () => {
    const keys = ['popularity', 'cooc@mobile', 'popularity@default', 'popularity@..', 'popularity@.x', 'a@b@c', 'X', 'cooc@Default'];
    for (const key of keys) {
      const parsed = safeParseManifest({ v: 1, tenant: 't', surface: 's', current: { [key]: 's3://bucket/k.json' }, updated_at: '2026-01-01T00:00:00Z' });
      expect(parsed.success, key).toBe(parseManifestKey(key) !== undefined);
      if (parseManifestKey(key) !== undefined) expect(MANIFEST_KEY_PATTERN.test(key)).toBe(true);
    }
  });
});

describe('artifact types', () => {
  it('lists the five v1 types', () => {
    expect(ARTIFACT_TYPES).toEqual(['popularity', 'cooc', 'implicit', 'session_seq', 'content_sim']);
  });

  it.each([
    ['popularity', true],
    ['content_sim', true],
    ['content-sim', false],
    ['', false],
    [1, false],
  ])('isArtifactType(%j) = %j', (value, expected) => {
    expect(isArtifactType(value)).toBe(expected);
  });
});
