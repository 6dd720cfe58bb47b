// The committed JSON Schema files (schemas/*.schema.json) are generated from
// the zod schemas; this suite fails when they are stale and checks that
// non-TypeScript consumers validating with them agree with the zod parsers.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { CONTRACT_SCHEMAS, buildJsonSchemas, type ContractName } from '../src/index.js';
import { CONTRACTS, PACKAGE_DIR, invalidFixtures, validFixtures } from './fixtures.js';

const SCHEMAS_DIR = join(PACKAGE_DIR, 'schemas');
const REGENERATE = 'JSON Schema files are stale: run `pnpm --filter @recsys/contracts generate:schemas` and commit schemas/';

const generated = buildJsonSchemas();
const names = Object.keys(CONTRACT_SCHEMAS) as ContractName[];

describe('committed schemas/ match buildJsonSchemas()', () => {
  it('has exactly one file per contract', () => {
    const files = readdirSync(SCHEMAS_DIR).sort();
    expect(files, REGENERATE).toEqual(names.map((n) => `${n}.schema.json`).sort());
  });

  it.each(names)('%s.schema.json is up to date', (name) => {
    const committed = readFileSync(join(SCHEMAS_DIR, `${name}.schema.json`), 'utf8');
    expect(committed, REGENERATE).toBe(JSON.stringify(generated[name], null, 2) + '\n');
  });

  it('targets draft 2020-12 and carries a stable $id', () => {
    for (const name of names) {
      expect(generated[name]).toMatchObject({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $id: `https://recsys.dev/schemas/${name}.schema.json`,
      });
    }
  });
});

describe('JSON Schemas agree with the zod parsers on the fixtures', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validators = Object.fromEntries(names.map((n) => [n, ajv.compile(generated[n])]));

  describe.each(CONTRACTS.map((c) => [c.dir, c] as const))('%s', (_dir, contract) => {
    it('accepts every valid fixture', () => {
      for (const fixture of validFixtures(contract)) {
        const validate = validators[contract.schema]!;
        expect(validate(fixture.document), `${fixture.name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
        if (contract.artifactType !== undefined) {
          const any = validators['artifact.v1']!;
          expect(any(fixture.document), `${fixture.name} (artifact.v1): ${ajv.errorsText(any.errors)}`).toBe(true);
        }
      }
    });

    it('rejects every invalid fixture whose rule is structural (zod refinements are zod-only)', () => {
      for (const fixture of invalidFixtures(contract)) {
        const result = contract.safeParse(fixture.document);
        if (result.success || result.error.issues.some((i) => i.code === 'custom')) continue;
        expect(validators[contract.schema]!(fixture.document), fixture.name).toBe(false);
      }
    });
  });

  it('rejects an extra top-level key in the manifest', () => {
    const fixture = invalidFixtures(CONTRACTS.find((c) => c.dir === 'manifest')!).find((f) => f.name === 'extra-top-level-key')!;
    const validate = validators['manifest.v1']!;
    expect(validate(fixture.document)).toBe(false);
    expect(validate.errors).toEqual([expect.objectContaining({ keyword: 'additionalProperties', params: { additionalProperty: 'previous' } })]);
  });

  it('uses no lookaround in patterns, so RE2-based validators (Go, Rust) can compile them', () => {
    const patterns: string[] = [];
    JSON.stringify(generated, (key, value: unknown) => {
      if (key === 'pattern' && typeof value === 'string') patterns.push(value);
      return value;
    });
    expect(patterns.length).toBeGreaterThan(10);
    for (const p of patterns) expect(p).not.toMatch(/\(\?<?[=!]/);
  });
});
