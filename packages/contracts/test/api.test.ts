// The public API: what other packages and repositories import. Removing or
// renaming an export is a breaking change (a major); this list makes such a
// change visible in review. Every export carries TSDoc with a description and @since.
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { PACKAGE_DIR } from './fixtures.js';

const RUNTIME_EXPORTS = [
  'ARTIFACT_TYPES', 'ArtifactBuildSchema', 'ArtifactV1Schema', 'CONTRACT_SCHEMAS', 'CanonicalExposureSchema', 'CheckpointV1Schema',
  'ContentSimArtifactV1Schema', 'ContractValidationError', 'CoocArtifactV1Schema', 'DAY_PATTERN', 'DEFAULT_SEGMENT', 'HISTORY_REASONS',
  'HistoryEntryV1Schema', 'ImplicitArtifactV1Schema', 'InputPartitionSchema', 'InvalidPathSegmentError', 'MANIFEST_KEY_PATTERN',
  'ManifestV1Schema', 'PATH_SEGMENT_MAX_LENGTH', 'PATH_SEGMENT_PATTERN', 'PopularityArtifactV1Schema', 'RFC3339_PATTERN',
  'RawExposureEventV1Schema', 'SessionSeqArtifactV1Schema', 'UTC_SECOND_PATTERN', 'VersionRecordV1Schema', 'assertPathSegment',
  'buildJsonSchemas', 'canonicalTimestampParts', 'computeArtifactVersion', 'formatUtcSeconds', 'goEscapeJson', 'isArtifactType', 'isValidDay', 'isValidPathSegment',
  'manifestKey', 'orderArtifact', 'parseArtifact', 'parseCanonicalExposure', 'parseCheckpoint', 'parseContentSimArtifact',
  'parseCoocArtifact', 'parseHistoryEntry', 'parseImplicitArtifact', 'parseManifest', 'parseManifestKey', 'parsePopularityArtifact',
  'parseRawExposureEvent', 'parseRfc3339', 'parseSessionSeqArtifact', 'parseVersionRecord', 'pathSegmentProblem', 'safeParseArtifact',
  'safeParseCanonicalExposure', 'safeParseCheckpoint', 'safeParseContentSimArtifact', 'safeParseCoocArtifact', 'safeParseHistoryEntry',
  'safeParseImplicitArtifact', 'safeParseManifest', 'safeParsePopularityArtifact', 'safeParseRawExposureEvent',
  'safeParseSessionSeqArtifact', 'safeParseVersionRecord', 'serializeArtifact', 'serializeForVersion', 'sha256Hex',
  'toCanonicalTimestamp', 'verifyArtifactVersion',
];

describe('public API', () => {
  it('exports exactly the known runtime names', () => {
    expect(Object.keys(api).sort()).toEqual([...RUNTIME_EXPORTS].sort());
  });

  it('documents every export (types included) with a description and @since', () => {
    const program = ts.createProgram([`${PACKAGE_DIR}src/index.ts`], {
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
    });
    const checker = program.getTypeChecker();
    const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(`${PACKAGE_DIR}src/index.ts`)!)!;
    const exported = checker.getExportsOfModule(moduleSymbol);
    expect(exported.length).toBeGreaterThan(RUNTIME_EXPORTS.length);
    const undocumented = exported
      .map((symbol) => (symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol))
      .filter((symbol) => {
        const description = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
        return description === '' || !symbol.getJsDocTags(checker).some((tag) => tag.name === 'since');
      })
      .map((symbol) => symbol.name);
    expect(undocumented).toEqual([]);
  }, 300_000);
});
