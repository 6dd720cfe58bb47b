import { Worker, type Transferable } from 'node:worker_threads';
import { RecsysError } from '@recsys/core';

interface Pending<R> {
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

interface Slot<R> {
  worker: Worker;
  pending: Map<number, Pending<R>>;
  /** Whether the worker said it has loaded its modules and serves requests. */
  ready: boolean;
  /** Whether it said so, or exited first. */
  settled: boolean;
}

/**
 * What a worker posts back: the request's id and either its result or the
 * error it threw; or, once, `ready` when it has loaded and serves requests.
 */
export interface WorkerReply<R> {
  id: number;
  result?: R;
  error?: { message: string; stack?: string };
  ready?: true;
}

/**
 * How the next request picks its worker. `least-busy-ready`: the worker with
 * the fewest requests in flight among those that said they are ready (all of
 * them while none has).
 */
export type SlotChoice = 'round-robin' | 'least-busy' | 'least-busy-ready';

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
  private readyCount = 0;
  private settledCount = 0;
  private whenReady: (() => void)[] = [];

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

  /** Whether the workers were started (by a request or {@link WorkerSlots.warm}) and not closed since. */
  get started(): boolean {
    return this.slots.length > 0;
  }

  /** Workers that said they are ready (started and not closed since). */
  get ready(): number {
    return this.readyCount;
  }

  /**
   * Starts the workers if they are not running, without a request: they load
   * their modules while the caller does other work. Resolves when every one
   * of them is ready (or has died: requests to it then fail as usual).
   * Workers still starting keep the process alive meanwhile.
   */
  warm(): Promise<void> {
    if (this.slots.length === 0) this.start();
    if (this.settledCount === this.slots.length) return Promise.resolve();
    for (const s of this.slots) if (!s.settled) s.worker.ref();
    return new Promise((resolve) => this.whenReady.push(resolve));
  }

  /**
   * Posts `message` (plus its id) to a worker and resolves with its reply's result. A caller that transfers
   * buffers detaches them in this thread (see detach-protector.ts); the pools post shared memory instead.
   */
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
    const onlyReady = this.choice === 'least-busy-ready' && this.readyCount > 0;
    let slot: Slot<R> | undefined;
    for (const s of this.slots) if ((!onlyReady || s.ready) && (!slot || s.pending.size < slot.pending.size)) slot = s;
    return slot!;
  }

  private start(): void {
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(this.script, { workerData: this.workerData(i) });
      const pending = new Map<number, Pending<R>>();
      const slot: Slot<R> = { worker, pending, ready: false, settled: false };
      // Counts a worker once, as ready or gone, for warm().
      const settle = (ready: boolean) => {
        if (slot.settled || !this.slots.includes(slot)) return;
        slot.settled = true;
        slot.ready = ready;
        if (ready) this.readyCount++;
        if (pending.size === 0) worker.unref();
        if (++this.settledCount === this.slots.length) for (const resolve of this.whenReady.splice(0)) resolve();
      };
      worker.on('message', (msg: WorkerReply<R>) => {
        if (msg.ready) {
          settle(true);
          return;
        }
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
        settle(false);
        if (slot.ready && this.slots.includes(slot)) {
          slot.ready = false;
          this.readyCount--;
        }
        if (pending.size > 0) fail(new Error(`exit code ${code}`));
      });
      worker.unref();
      this.slots.push(slot);
    }
  }

  /** Terminates every worker; a later request starts a fresh set. */
  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    this.readyCount = 0;
    this.settledCount = 0;
    for (const resolve of this.whenReady.splice(0)) resolve();
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
