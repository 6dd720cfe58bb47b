import { parentPort, type Transferable } from 'node:worker_threads';
import { settleDetachProtector } from './detach-protector.js';

/**
 * The worker side of {@link WorkerSlots}: answers each request with its
 * handler's result (with `transfer`, its buffers transferred, not copied)
 * or with the error it threw, under the request's id. Says `ready` once
 * first: its modules are loaded by the time this runs (a pool can parse
 * elsewhere until then).
 */
export function serveRequests<M extends { id: number }, R>(handle: (msg: M) => R, transfer?: (result: R) => Transferable[]): void {
  // Before the handler's code is compiled: its first reply transfers buffers (see detach-protector.ts). A worker
  // that transfers nothing never detaches one, and keeps the checks out of its code.
  if (transfer) settleDetachProtector();
  parentPort!.on('message', (msg: M) => {
    try {
      const result = handle(msg);
      parentPort!.postMessage({ id: msg.id, result }, transfer ? transfer(result) : []);
    } catch (error) {
      parentPort!.postMessage({ id: msg.id, error: error instanceof Error ? { message: error.message, stack: error.stack } : { message: String(error) } });
    }
  });
  parentPort!.postMessage({ ready: true });
}
