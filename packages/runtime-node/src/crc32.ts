import * as zlib from 'node:zlib';
import type { Crc32 } from '@recsys/core';
import { portableCrc32 } from '@recsys/core/internal';

type ZlibCrc32 = (data: Uint8Array, value?: number) => number;

/**
 * The CRC-32 of a runtime whose zlib module has `crc32` (`undefined`: it
 * has none), as core's port wants it: an empty `data` gives `value` back
 * (zlib's own would return 0 for it).
 */
export function crc32Of(native: ZlibCrc32 | undefined): Crc32 {
  if (typeof native !== 'function') return portableCrc32;
  return (data, value) => (data.length === 0 ? value >>> 0 : native(data, value));
}

/**
 * CRC-32 for `PipelineEnv.crc32`: `zlib.crc32` where this Node has it (since
 * 20.15 and 22.2; feature-detected, not assumed from `engines`), otherwise
 * core's portable one. The same values either way.
 * @since 0.10.0
 */
export const nodeCrc32: Crc32 = crc32Of((zlib as { crc32?: ZlibCrc32 }).crc32);
