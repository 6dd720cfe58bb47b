import { Worker, type Transferable } from 'node:worker_threads';
import { RecsysError } from '@recsys/core';

interface Pending<R> {
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

interface Slot<R> {
  worker: Worker;
  pending: Map<number, Pending<R>>;
}

/** What a worker posts back: the request's id and either its result or the error it threw. */
export interface WorkerReply<R> {
  id: number;
  result?: R;
  error?: { message: string; stack?: string };
}

/** How the next request picks its worker. */
export type SlotChoice = 'round-robin' | 'least-busy';

/**
 * Request/reply bookkeeping shared by the worker pools: a fixed set of worker
 * threads started on the first request, an id per request, every pending
 * request failed when its worker errors or exits, and workers that keep the
 * process alive only while they owe a reply (an idle pool never holds the
 * event loop open). Round-robin keeps each worker's replies in submission
 * order, which the parse pool's per-worker dictionaries rely on.
 */
export class WorkerSlots<R> {
  private slots: Slot<R>[] = [];
  private next = 0;
  private ids = 0;

  /**
   * @param script - the worker entry, resolved next to the bundle
   * @param size - number of worker threads
   * @param what - names the pool in errors (`parse`, `compute`)
   * @param workerData - per-worker start data, by worker index
   */
  constructor(
    private readonly script: URL,
    readonly size: number,
    private readonly what: string,
    private readonly choice: SlotChoice,
    private readonly workerData: (index: number) => unknown = () => undefined,
  ) {}

  /** Posts `message` (plus its id) to a worker and resolves with its reply's result. */
  request(message: object, transfer: readonly Transferable[] = []): Promise<R> {
    if (this.slots.length === 0) this.start();
    const slot = this.pick();
    const id = ++this.ids;
    return new Promise<R>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ ...message, id }, transfer as Transferable[]);
    });
  }

  private pick(): Slot<R> {
    if (this.choice === 'round-robin') return this.slots[this.next++ % this.slots.length]!;
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s;
    return slot;
  }

  private start(): void {
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(this.script, { workerData: this.workerData(i) });
      const pending = new Map<number, Pending<R>>();
      worker.on('message', (msg: WorkerReply<R>) => {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (pending.size === 0) worker.unref();
        if (msg.error) p.reject(new RecsysError('runtime', `${this.what} worker failed: ${msg.error.message}`, { stack: msg.error.stack }));
        else p.resolve(msg.result as R);
      });
      const fail = (error: unknown) => {
        for (const p of pending.values()) {
          p.reject(new RecsysError('runtime', `${this.what} worker died: ${(error as Error)?.message ?? error}`, {}, { cause: error }));
        }
        pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (pending.size > 0) fail(new Error(`exit code ${code}`));
      });
      worker.unref();
      this.slots.push({ worker, pending });
    }
  }

  /** Terminates every worker; a later request starts a fresh set. */
  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
