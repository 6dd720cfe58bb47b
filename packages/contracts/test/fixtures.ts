// Loads the backward-compatibility fixtures (fixtures/<contract>/v1/{valid,invalid}/*.json)
// and maps each fixture directory to its parse helpers and JSON Schema.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as contracts from '../src/index.js';
import type { ContractName, SafeParseResult } from '../src/index.js';

export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
export const FIXTURES_DIR = join(PACKAGE_DIR, 'fixtures');

export interface ContractEntry {
  /** Directory under fixtures/. */
  readonly dir: string;
  /** JSON Schema file name (without `.schema.json`). */
  readonly schema: ContractName;
  readonly parse: (input: unknown) => unknown;
  readonly safeParse: (input: unknown) => SafeParseResult<unknown>;
  /** Set for the five artifact types: the `artifact_type` value. */
  readonly artifactType?: contracts.ArtifactType;
}

export const CONTRACTS: readonly ContractEntry[] = [
  { dir: 'raw-exposure-event', schema: 'raw-exposure-event.v1', parse: contracts.parseRawExposureEvent, safeParse: contracts.safeParseRawExposureEvent },
  { dir: 'canonical-exposure', schema: 'canonical-exposure.v1', parse: contracts.parseCanonicalExposure, safeParse: contracts.safeParseCanonicalExposure },
  { dir: 'popularity', schema: 'popularity.v1', parse: contracts.parsePopularityArtifact, safeParse: contracts.safeParsePopularityArtifact, artifactType: 'popularity' },
  { dir: 'cooc', schema: 'cooc.v1', parse: contracts.parseCoocArtifact, safeParse: contracts.safeParseCoocArtifact, artifactType: 'cooc' },
  { dir: 'implicit', schema: 'implicit.v1', parse: contracts.parseImplicitArtifact, safeParse: contracts.safeParseImplicitArtifact, artifactType: 'implicit' },
  { dir: 'session-seq', schema: 'session-seq.v1', parse: contracts.parseSessionSeqArtifact, safeParse: contracts.safeParseSessionSeqArtifact, artifactType: 'session_seq' },
  { dir: 'content-sim', schema: 'content-sim.v1', parse: contracts.parseContentSimArtifact, safeParse: contracts.safeParseContentSimArtifact, artifactType: 'content_sim' },
  { dir: 'manifest', schema: 'manifest.v1', parse: contracts.parseManifest, safeParse: contracts.safeParseManifest },
  { dir: 'version-record', schema: 'version-record.v1', parse: contracts.parseVersionRecord, safeParse: contracts.safeParseVersionRecord },
  { dir: 'history-entry', schema: 'history-entry.v1', parse: contracts.parseHistoryEntry, safeParse: contracts.safeParseHistoryEntry },
  { dir: 'checkpoint', schema: 'checkpoint.v1', parse: contracts.parseCheckpoint, safeParse: contracts.safeParseCheckpoint },
];

export interface ValidFixture {
  readonly contract: ContractEntry;
  readonly version: string;
  readonly name: string;
  /** The file's exact text. */
  readonly text: string;
  readonly document: unknown;
}

export interface InvalidFixture {
  readonly contract: ContractEntry;
  readonly version: string;
  readonly name: string;
  readonly description: string;
  readonly expectedPath: string;
  readonly document: unknown;
}

function listJson(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
}

function versions(contract: ContractEntry): string[] {
  return readdirSync(join(FIXTURES_DIR, contract.dir)).filter((d) => /^v\d+$/.test(d)).sort();
}

export function validFixtures(contract: ContractEntry): ValidFixture[] {
  return versions(contract).flatMap((version) => {
    const dir = join(FIXTURES_DIR, contract.dir, version, 'valid');
    return listJson(dir).map((file) => {
      const text = readFileSync(join(dir, file), 'utf8');
      return { contract, version, name: file.slice(0, -'.json'.length), text, document: JSON.parse(text) as unknown };
    });
  });
}

export function invalidFixtures(contract: ContractEntry): InvalidFixture[] {
  return versions(contract).flatMap((version) => {
    const dir = join(FIXTURES_DIR, contract.dir, version, 'invalid');
    return listJson(dir).map((file) => {
      const raw = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
      const keys = Object.keys(raw).sort().join(',');
      if (keys !== 'description,document,expected_path' || typeof raw.description !== 'string' || typeof raw.expected_path !== 'string') {
        throw new Error(`fixtures/${contract.dir}/${version}/invalid/${file}: must be {"description": string, "expected_path": string, "document": ...}`);
      }
      return { contract, version, name: file.slice(0, -'.json'.length), description: raw.description, expectedPath: raw.expected_path, document: raw.document };
    });
  });
}
