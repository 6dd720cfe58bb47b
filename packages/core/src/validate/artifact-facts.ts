import { DEFAULT_SEGMENT } from '@recsys/contracts';
import type { ArtifactTarget } from '../compute/artifacts.js';
import { kindOf } from '../compute/kinds.js';
import { ValidationGateError } from '../errors.js';
import type { Limits } from '../limits.js';

/** What the artifact gate (`checkArtifactGateStreamed`, `checkArtifactGate`) expects of the blob. @since 0.1.0 */
export interface ArtifactGateExpectation {
  readonly type: string;
  readonly version: string;
  readonly target: ArtifactTarget;
}

/** What the artifact gate checks once the artifact parsed. */
export interface ArtifactFacts {
  readonly artifact_type: string;
  readonly tenant: string;
  readonly surface: string;
  readonly segment?: string | undefined;
  readonly window: { readonly start: string; readonly end: string };
  readonly build: { readonly version: string };
  readonly rows: number;
  readonly maxRow: number;
  readonly computedVersion: string;
}

/**
 * The gate's checks after the contract parse (shared by the whole-text and
 * the streamed gate, so both block on exactly the same conditions).
 */
export function checkArtifactFacts(where: string, a: ArtifactFacts, expected: ArtifactGateExpectation, limits: Limits): void {
  const { scope, segment, window } = expected.target;
  const mismatches: string[] = [];
  if (a.artifact_type !== expected.type) mismatches.push(`artifact_type ${a.artifact_type} != ${expected.type}`);
  if (a.tenant !== scope.tenant) mismatches.push(`tenant ${a.tenant} != ${scope.tenant}`);
  if (a.surface !== scope.surface) mismatches.push(`surface ${a.surface} != ${scope.surface}`);
  if ((a.segment ?? DEFAULT_SEGMENT) !== (segment || DEFAULT_SEGMENT)) mismatches.push(`segment ${a.segment} != ${segment}`);
  if (a.window.start !== window.start || a.window.end !== window.end) mismatches.push(`window ${a.window.start}/${a.window.end} != ${window.start}/${window.end}`);
  if (mismatches.length > 0) throw new ValidationGateError('artifact_header', `${where}: ${mismatches.join('; ')}`, { type: expected.type });
  if (a.computedVersion !== a.build.version || a.computedVersion !== expected.version) {
    throw new ValidationGateError('artifact_hash', `${where}: content hashes to ${a.computedVersion}`, { type: expected.type, expected: expected.version, computed: a.computedVersion });
  }
  if (a.rows > limits.max_items_per_artifact) {
    throw new ValidationGateError('artifact_size', `${where}: ${a.rows} rows > limits.max_items_per_artifact ${limits.max_items_per_artifact}`, { rows: a.rows });
  }
  const rowLimitKey = kindOf(a.artifact_type)?.rowLimit;
  const rowLimit = rowLimitKey ? limits[rowLimitKey] : Infinity;
  if (a.maxRow > rowLimit) {
    throw new ValidationGateError('artifact_size', `${where}: a row has ${a.maxRow} entries > ${rowLimit}`, { maxRow: a.maxRow });
  }
}
