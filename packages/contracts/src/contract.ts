import type { z } from 'zod';
import { ContractValidationError, type ContractIssue } from './errors.js';
import { toJsonPath } from './json-path.js';

/**
 * Result of a `safeParseX` helper: never throws for invalid input.
 * @since 0.1.0
 */
export type SafeParseResult<T> =
  | { readonly success: true; readonly data: T }
  | { readonly success: false; readonly error: ContractValidationError };

/**
 * Converts zod issues to contract issues with JSON paths. Unknown keys get one
 * issue per key so the path names the key; a bad record key reports why the
 * key is bad; a missing field says so instead of "received undefined".
 */
export function toContractIssues(issues: readonly z.core.$ZodIssue[]): ContractIssue[] {
  const out: ContractIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: toJsonPath([...issue.path, key]), code: issue.code, message: `unknown field "${key}"` });
      }
    } else if (issue.code === 'invalid_key') {
      const reasons = issue.issues.map((inner) => inner.message).join('; ');
      out.push({ path: toJsonPath(issue.path), code: issue.code, message: `invalid key: ${reasons}` });
    } else if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
      out.push({ path: toJsonPath(issue.path), code: issue.code, message: `required field is missing (expected ${issue.expected})` });
    } else {
      out.push({ path: toJsonPath(issue.path), code: issue.code, message: issue.message });
    }
  }
  return out;
}

/**
 * Issues for own `__proto__` keys in a JSON document. `JSON.parse` creates
 * them as ordinary keys, but zod records skip them silently, so a manifest
 * carrying one would parse with the key dropped. No contract allows it.
 */
function protoKeyIssues(input: unknown): ContractIssue[] {
  const out: ContractIssue[] = [];
  const path: PropertyKey[] = [];
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        visit(value[i]);
        path.pop();
      }
      return;
    }
    for (const key of Object.keys(value)) {
      path.push(key);
      if (key === '__proto__') out.push({ path: toJsonPath(path), code: 'unrecognized_keys', message: 'unknown field "__proto__"' });
      else visit((value as Record<string, unknown>)[key]);
      path.pop();
    }
  };
  visit(input);
  return out;
}

/** Builds the `parse`/`safeParse` pair for one contract. */
export function contractParsers<S extends z.ZodType>(contract: string, schema: S) {
  const safeParse = (input: unknown): SafeParseResult<z.output<S>> => {
    const result = schema.safeParse(input);
    const proto = protoKeyIssues(input);
    if (result.success && proto.length === 0) return { success: true, data: result.data };
    const issues = result.success ? [] : toContractIssues(result.error.issues);
    const reported = new Set(issues.map((issue) => issue.path));
    issues.push(...proto.filter((issue) => !reported.has(issue.path)));
    return { success: false, error: new ContractValidationError(contract, issues, result.success ? {} : { cause: result.error }) };
  };
  const parse = (input: unknown): z.output<S> => {
    const result = safeParse(input);
    if (!result.success) throw result.error;
    return result.data;
  };
  return { parse, safeParse };
}
