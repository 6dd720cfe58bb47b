import { pino } from 'pino';
import type { Logger } from '@recsys/core';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/**
 * JSON-lines logger on stderr (stdout is reserved for results). Synchronous
 * writes so that nothing is lost when the process exits with an error code.
 */
export function createLogger(level: string): Logger & { level: string } {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 2, sync: true }));
}
