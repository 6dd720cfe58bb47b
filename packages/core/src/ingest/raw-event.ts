import type { CanonicalExposure } from '@recsys/contracts';
import { canonicalTimestampParts } from '@recsys/contracts/codec';
import { briefJson } from '../json-brief.js';

/**
 * Why a raw line was rejected. Each is a distinct, documented reason
 * (docs/reference/quarantine.md).
 * @since 0.1.0
 */
export const REJECT_REASONS = [
  'line_too_long',
  'invalid_utf8',
  'invalid_json',
  'not_an_object',
  'unknown_field',
  'unsupported_version',
  'missing_field',
  'invalid_type',
  'empty_field',
  'invalid_timestamp',
  'negative_rank',
  'invalid_rank',
  'invalid_response',
] as const;

/** @since 0.1.0 */
export type RejectReason = (typeof REJECT_REASONS)[number];

/**
 * A validated, normalised exposure (DESIGN §3.2): the contracts'
 * `CanonicalExposure` without its format tag `v` (one type, two views).
 * @since 0.1.0
 */
export type CanonicalEvent = Readonly<Omit<CanonicalExposure, 'v'>>;

/** Outcome of checking one parsed raw line. @since 0.1.0 */
export type RawEventResult =
  | {
      readonly ok: true;
      readonly event: CanonicalEvent;
      /** The instant of `event.ts`: epoch ms of its whole second, and nanoseconds within it. */
      readonly secondsMs: number;
      readonly nanos: number;
    }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

const ALLOWED = new Set(['v', 'ts', 'tenant', 'surface', 'session_id', 'item_id', 'user_id', 'request_id', 'rank']);
const REQUIRED_IDS = ['tenant', 'surface', 'session_id', 'item_id'] as const;

const reject = (reason: RejectReason, detail: string): RawEventResult => ({ ok: false, reason, detail });

/**
 * Validates a parsed raw line against raw exposure event v1 and normalises
 * it (DESIGN §3.1–3.2). Hand-written because it runs once per event on the
 * hot path; a property test keeps it in agreement with the contracts' zod
 * schema (`RawExposureEventV1Schema`), which stays the source of truth.
 * @since 0.1.0
 */
export function checkRawEvent(value: unknown): RawEventResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject('not_an_object', `expected a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  const obj = value as Record<string, unknown>;
  for (const key in obj) {
    if (!ALLOWED.has(key)) return reject('unknown_field', `unknown field "${key}"`);
  }
  if (!('v' in obj)) return reject('missing_field', 'missing field "v"');
  if (obj.v !== 1) return reject('unsupported_version', `v must be 1, got ${briefJson(obj.v)}`);
  const ids: Record<string, string> = {};
  for (const field of REQUIRED_IDS) {
    const raw = obj[field];
    if (raw === undefined) return reject('missing_field', `missing field "${field}"`);
    if (typeof raw !== 'string') return reject('invalid_type', `${field} must be a string, got ${typeof raw}`);
    const trimmed = wellFormed(raw.trim());
    if (trimmed === '') return reject('empty_field', `${field} must not be empty`);
    ids[field] = trimmed;
  }
  if (obj.ts === undefined) return reject('missing_field', 'missing field "ts"');
  if (typeof obj.ts !== 'string') return reject('invalid_timestamp', `ts must be an RFC 3339 string, got ${typeof obj.ts}`);
  const parts = canonicalTimestampParts(obj.ts);
  if (parts === undefined) return reject('invalid_timestamp', `ts is not an RFC 3339 date-time: ${JSON.stringify(obj.ts.slice(0, 64))}`);
  let userId: string | undefined;
  if (obj.user_id !== undefined) {
    if (typeof obj.user_id !== 'string') return reject('invalid_type', `user_id must be a string, got ${typeof obj.user_id}`);
    userId = wellFormed(obj.user_id.trim()) || undefined;
  }
  let requestId: string | undefined;
  if (obj.request_id !== undefined) {
    if (typeof obj.request_id !== 'string') return reject('invalid_type', `request_id must be a string, got ${typeof obj.request_id}`);
    requestId = wellFormed(obj.request_id.trim()) || undefined;
  }
  let rank: number | undefined;
  if (obj.rank !== undefined) {
    if (typeof obj.rank !== 'number' || !Number.isInteger(obj.rank) || !Number.isSafeInteger(obj.rank)) {
      return reject('invalid_rank', `rank must be an integer, got ${briefJson(obj.rank)}`);
    }
    if (obj.rank < 0) return reject('negative_rank', `rank must be >= 0, got ${obj.rank}`);
    rank = obj.rank;
  }
  const event: { -readonly [K in keyof CanonicalEvent]: CanonicalEvent[K] } = {
    ts: parts.ts,
    tenant: ids.tenant!,
    surface: ids.surface!,
    session_id: ids.session_id!,
    item_id: ids.item_id!,
  };
  if (userId !== undefined) event.user_id = userId;
  if (requestId !== undefined) event.request_id = requestId;
  if (rank !== undefined) event.rank = rank;
  const nanos = parts.fraction === '' ? 0 : Number(parts.fraction.slice(1).padEnd(9, '0'));
  return { ok: true, event, secondsMs: parts.epochSecondsMs, nanos };
}

/**
 * Replaces unpaired UTF-16 surrogates (only reachable through `\ud800`-style
 * escapes in the raw JSON) with U+FFFD, as Go's JSON decoder does, so ids
 * are valid Unicode everywhere downstream.
 */
function wellFormed(value: string): string {
  return value.isWellFormed() ? value : value.toWellFormed();
}

/**
 * The canonical JSON line of an event (no newline): fixed key order, empty
 * optional fields omitted. Equal events give equal lines, which is what
 * exact-duplicate removal compares.
 * @since 0.1.0
 */
export function canonicalLine(e: CanonicalEvent): string {
  let s = `{"v":1,"ts":"${e.ts}","tenant":${quote(e.tenant)},"surface":${quote(e.surface)},"session_id":${quote(e.session_id)},"item_id":${quote(e.item_id)}`;
  if (e.user_id !== undefined) s += `,"user_id":${quote(e.user_id)}`;
  if (e.request_id !== undefined) s += `,"request_id":${quote(e.request_id)}`;
  if (e.rank !== undefined) s += `,"rank":${e.rank}`;
  return s + '}';
}

/** `JSON.stringify` of a string, without the call for the common plain-ASCII id. */
function quote(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return JSON.stringify(value);
  }
  return `"${value}"`;
}
