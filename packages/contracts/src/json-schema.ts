import { z } from 'zod';
import { CanonicalExposureSchema, RawExposureEventV1Schema } from './schemas/exposure.js';
import {
  ArtifactV1Schema,
  CoocArtifactV1Schema,
  ContentSimArtifactV1Schema,
  ImplicitArtifactV1Schema,
  PopularityArtifactV1Schema,
  SessionSeqArtifactV1Schema,
} from './schemas/artifacts.js';
import { CheckpointV1Schema, HistoryEntryV1Schema, ManifestV1Schema, VersionRecordV1Schema } from './schemas/registry.js';

/**
 * Every contract, by the file name its JSON Schema is published under
 * (`schemas/<name>.schema.json`). Versions live side by side: a breaking
 * change adds `<contract>.v2`, it never edits a released `v1`.
 * @since 0.1.0
 */
export const CONTRACT_SCHEMAS = {
  'raw-exposure-event.v1': RawExposureEventV1Schema,
  'canonical-exposure.v1': CanonicalExposureSchema,
  'popularity.v1': PopularityArtifactV1Schema,
  'cooc.v1': CoocArtifactV1Schema,
  'implicit.v1': ImplicitArtifactV1Schema,
  'session-seq.v1': SessionSeqArtifactV1Schema,
  'content-sim.v1': ContentSimArtifactV1Schema,
  'artifact.v1': ArtifactV1Schema,
  'manifest.v1': ManifestV1Schema,
  'version-record.v1': VersionRecordV1Schema,
  'history-entry.v1': HistoryEntryV1Schema,
  'checkpoint.v1': CheckpointV1Schema,
} as const;

/** A key of {@link CONTRACT_SCHEMAS}, e.g. `manifest.v1`. @since 0.1.0 */
export type ContractName = keyof typeof CONTRACT_SCHEMAS;

/**
 * JSON Schema (draft 2020-12) documents for every contract, keyed by file
 * name. Refinements that JSON Schema cannot express (calendar validity,
 * `start < end`) are enforced by the zod schemas only.
 * @since 0.1.0
 */
export function buildJsonSchemas(): Record<ContractName, Record<string, unknown>> {
  const out = {} as Record<ContractName, Record<string, unknown>>;
  for (const [name, schema] of Object.entries(CONTRACT_SCHEMAS) as [ContractName, z.ZodType][]) {
    const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    out[name] = { $id: `https://recsys.dev/schemas/${name}.schema.json`, ...json };
  }
  return out;
}
