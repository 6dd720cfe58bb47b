// Backward-compatibility suite: every released fixture must keep parsing
// (valid) or keep failing at the same JSON path (invalid). Fixtures are
// append-only; see fixtures/README.md.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ContractValidationError,
  computeArtifactVersion,
  parseArtifact,
  safeParseArtifact,
  serializeArtifact,
  verifyArtifactVersion,
  type ArtifactV1,
} from '../src/index.js';
import { CONTRACTS, FIXTURES_DIR, invalidFixtures, validFixtures } from './fixtures.js';

it('has a fixture directory for every contract and nothing else', () => {
  expect(readdirSync(FIXTURES_DIR).filter((d) => !d.includes('.')).sort()).toEqual(CONTRACTS.map((c) => c.dir).sort());
});

describe.each(CONTRACTS.map((c) => [c.dir, c] as const))('%s', (_dir, contract) => {
  const valid = validFixtures(contract);
  const invalid = invalidFixtures(contract);

  it('has at least 5 valid and 10 invalid v1 fixtures', () => {
    expect(valid.filter((f) => f.version === 'v1').length).toBeGreaterThanOrEqual(5);
    expect(invalid.filter((f) => f.version === 'v1').length).toBeGreaterThanOrEqual(10);
  });

  it('names every fixture in kebab-case after what it shows', () => {
    for (const f of [...valid, ...invalid]) expect(f.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  describe.each(valid.map((f) => [`${f.version}/valid/${f.name}`, f] as const))('%s', (_name, fixture) => {
    it('parses', () => {
      expect(() => contract.parse(fixture.document)).not.toThrow();
      const result = contract.safeParse(fixture.document);
      expect(result.success).toBe(true);
    });

    if (contract.artifactType !== undefined) {
      it('parses via parseArtifact with the same result', () => {
        const parsed = parseArtifact(fixture.document);
        expect(parsed.artifact_type).toBe(contract.artifactType);
        expect(parsed).toEqual(contract.parse(fixture.document));
      });

      it('declares the version its content hashes to', async () => {
        const artifact = parseArtifact(fixture.document);
        const check = await verifyArtifactVersion(artifact);
        expect(check).toEqual({ ok: true, version: artifact.build.version });
        expect(await computeArtifactVersion(artifact)).toBe(artifact.build.version);
      });

      it('is stored byte-for-byte as the published blob (serializeArtifact)', () => {
        expect(serializeArtifact(parseArtifact(fixture.document))).toBe(fixture.text);
      });
    }
  });

  describe.each(invalid.map((f) => [`${f.version}/invalid/${f.name}`, f] as const))('%s', (_name, fixture) => {
    it(`fails with an issue at its expected_path`, () => {
      const result = contract.safeParse(fixture.document);
      expect(result.success, fixture.description).toBe(false);
      if (result.success) return;
      expect(result.error.issues.map((i) => i.path), fixture.description).toContain(fixture.expectedPath);
      expect(() => contract.parse(fixture.document)).toThrow(ContractValidationError);
    });

    if (contract.artifactType !== undefined) {
      it('fails via parseArtifact too', () => {
        const result = safeParseArtifact(fixture.document);
        expect(result.success).toBe(false);
        const doc = fixture.document as Partial<ArtifactV1> | null;
        if (!result.success && doc?.artifact_type === contract.artifactType) {
          expect(result.error.issues.map((i) => i.path)).toContain(fixture.expectedPath);
        }
      });
    }
  });
});
