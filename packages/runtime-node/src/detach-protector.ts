/**
 * V8 compiles typed-array accesses without detach checks for as long as no
 * ArrayBuffer of the isolate has ever been detached (its "array buffer
 * detaching protector"). The first detach — here, the first buffer
 * transferred to or from a worker thread — throws away every optimized
 * function that relied on that, and each is compiled again: in a 1M-event
 * `run` that was every hot function of ingest, in the main thread and in
 * each worker (the chunk parser five times per parse worker instead of
 * twice). Detaching a throw-away buffer before any hot code is compiled
 * makes each function compiled once, with the checks it would end up
 * with anyway after the first transfer.
 */
let settled = false;

/** Detaches a throw-away ArrayBuffer once per isolate (thread), before its hot code is compiled. */
export function settleDetachProtector(): void {
  if (settled) return;
  settled = true;
  const scrap = new ArrayBuffer(8);
  structuredClone(scrap, { transfer: [scrap] });
}
