import type { DayPhase, ProgressSink } from '@recsys/core';
import { formatBytes } from './output.js';

/**
 * The reason a command was stopped by a signal; exit 130 (SIGINT) or 143
 * (SIGTERM), as shells report them. The command that knows what was done
 * before the signal says so with {@link Interrupted.explained}.
 */
export class Interrupted extends Error {
  constructor(
    readonly signalName: 'SIGINT' | 'SIGTERM',
    message = `interrupted by ${signalName}`,
    readonly context: Record<string, unknown> = { signal: signalName },
  ) {
    super(message);
    this.name = 'Interrupted';
  }

  get exitCode(): number {
    return this.signalName === 'SIGINT' ? 130 : 143;
  }

  /** The same interruption with what it left behind in the message and context. */
  explained(detail: string, context: Record<string, unknown>): Interrupted {
    return new Interrupted(this.signalName, `${this.message}: ${detail}`, { signal: this.signalName, ...context });
  }
}

/**
 * SIGINT/SIGTERM stop a run cleanly: the first one aborts the returned signal
 * (core stops at its next safe point, removing temporary files, never inside
 * a publish); a second one exits at once.
 */
export function interruptOnSignals(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((name) => {
    const handler = () => {
      if (controller.signal.aborted) process.exit(name === 'SIGINT' ? 130 : 143);
      controller.abort(new Interrupted(name));
    };
    process.on(name, handler);
    return () => process.off(name, handler);
  });
  return { signal: controller.signal, dispose: () => handlers.forEach((off) => off()) };
}

/**
 * Test-only: `RECSYS_TEST_STALL_INGEST=<day>` holds the ingest of that day
 * after its first block (and says `stalled` on stderr) until a signal stops
 * the run, so interruption can be tested without timing games.
 */
function stallHook(signal: AbortSignal): ProgressSink['ingest'] | undefined {
  const day = process.env.RECSYS_TEST_STALL_INGEST;
  if (!day) return undefined;
  let stalled = false;
  return (p) => {
    if (p.day !== day || stalled) return;
    stalled = true;
    process.stderr.write(`stalled ingest of ${day} (RECSYS_TEST_STALL_INGEST)\n`);
    // A timer keeps the event loop alive while nothing else is pending (as real reading would).
    const alive = setInterval(() => {}, 1000);
    return new Promise<void>((_, reject) =>
      signal.addEventListener(
        'abort',
        () => {
          clearInterval(alive);
          reject(signal.reason as Error);
        },
        { once: true },
      ),
    );
  };
}

/**
 * `n` (a whole number) with a comma every three digits, as `toLocaleString('en-US')` writes it, without its
 * first call's set-up of the ICU number formats (~25 ms on the main thread at the start of ingest).
 */
export function groupThousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Progress of a run on a terminal (stderr): one line redrawn in place with
 * the day, the phase, and while ingesting the bytes and lines read and the
 * rate; cleared before the day's summary is printed. Only when stderr is a
 * terminal and the result is not `--json`.
 */
/** Progress drawn on a terminal; `clear` removes the line before other output. */
export type TerminalProgress = ProgressSink & { clear(): void };

export function terminalProgress(signal: AbortSignal, enabled: boolean): TerminalProgress {
  const stall = stallHook(signal);
  let shown = false;
  let last = 0;
  let reported = '';
  let started = { day: '', at: 0 };
  // The text is made only when it is drawn: `run --json` and a run whose stderr is no terminal never make one.
  const draw = (text: () => string, force = false) => {
    if (!enabled) return;
    const now = performance.now();
    if (!force && now - last < 100) return;
    last = now;
    // Some pseudo-terminals report no (or a tiny) width: assume a usual one then.
    const columns = process.stderr.columns;
    const width = columns !== undefined && columns >= 40 ? columns : 120;
    process.stderr.write(`\r\x1b[K${text().slice(0, Math.max(20, width - 1))}`);
    shown = true;
  };
  const elapsed = () => `${((performance.now() - started.at) / 1000).toFixed(1)} s`;
  return {
    phase(day: string, phase: DayPhase) {
      if (started.day !== day) started = { day, at: performance.now() };
      draw(() => `  ${day}  ${phase}…  ${elapsed()}`, true);
    },
    async ingest(p) {
      // The first report of a day is always drawn; later ones at most every 100 ms.
      const first = reported !== p.day;
      reported = p.day;
      draw(() => {
        const seconds = (performance.now() - started.at) / 1000;
        const rate = seconds > 0 ? `${formatBytes(p.bytes / seconds)}/s` : '';
        return `  ${p.day}  ingest  ${formatBytes(p.bytes)} read  ${groupThousands(p.lines)} lines  ${rate}  ${elapsed()}`;
      }, first || p.done === true);
      await stall?.(p);
    },
    clear() {
      if (shown) process.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}
