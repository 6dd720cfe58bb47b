import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A fault-injecting HTTP proxy for S3 tests: forwards path-style S3 requests
 * to the real server (signatures stay valid: the Host header is passed
 * through unchanged) and, for the requests a rule picks, injects a failure.
 *
 * Faults:
 * - `status`: answer with an S3-style error (e.g. 503 SlowDown) without forwarding;
 * - `reset`: destroy the connection without forwarding;
 * - `stall`: hold the request for `ms` (and until `until` settles), then
 *   forward it (a late "ghost" request the client has given up on) or drop it;
 * - `lose-response`: forward, let the server apply it, then reset the
 *   connection instead of returning the answer (outcome unknown to the client);
 * - `stall-body`: forward and return the headers plus `afterBytes` of the
 *   body, then stall for `ms` and reset.
 */
export type Fault =
  | { readonly kind: 'pass' }
  | { readonly kind: 'status'; readonly status: number; readonly code?: string }
  | { readonly kind: 'reset' }
  | { readonly kind: 'stall'; readonly ms: number; readonly then: 'forward' | 'drop'; readonly until?: Promise<unknown> }
  | { readonly kind: 'lose-response' }
  | { readonly kind: 'stall-body'; readonly afterBytes: number; readonly ms: number };

/** What a rule sees of a request. */
export interface ProxiedRequest {
  readonly method: string;
  readonly bucket: string;
  /** Object key (decoded), `''` for bucket-level requests. */
  readonly key: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** How many requests with this method and key the proxy has seen, this one included (1-based). */
  readonly count: number;
}

/** One line of the proxy's log. */
export interface ProxyLogEntry {
  readonly method: string;
  readonly key: string;
  readonly query: string;
  readonly range: string | undefined;
  readonly fault: Fault['kind'];
  /** Upstream status (when forwarded and answered). */
  status?: number | undefined;
}

export type FaultRule = (request: ProxiedRequest) => Fault | undefined;

const PASS: Fault = { kind: 'pass' };

export class FaultProxy {
  readonly log: ProxyLogEntry[] = [];
  private readonly counts = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly agent = new Agent({ keepAlive: true });
  private upstream: URL;

  private constructor(
    private readonly server: Server,
    upstream: string,
    public rule: FaultRule,
  ) {
    this.upstream = new URL(upstream);
  }

  /** Starts a proxy on 127.0.0.1 (random port) in front of `upstream`. */
  static async start(upstream: string, rule: FaultRule = () => undefined): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, upstream, rule);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void proxy.handle(req, res));
    server.on('connection', (socket) => {
      proxy.sockets.add(socket);
      socket.on('close', () => proxy.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Forgets the log and the per-key counts (between tests). */
  reset(): void {
    this.log.length = 0;
    this.counts.clear();
  }

  /** Requests whose method and key match, in arrival order. */
  requests(method: string, keySuffix: string): ProxyLogEntry[] {
    return this.log.filter((e) => e.method === method && e.key.endsWith(keySuffix));
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://proxy');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const method = req.method ?? 'GET';
    const countKey = `${method} ${key}`;
    const count = (this.counts.get(countKey) ?? 0) + 1;
    this.counts.set(countKey, count);
    const fault = this.rule({ method, bucket, key, query: url.searchParams, headers: req.headers, count }) ?? PASS;
    const entry: ProxyLogEntry = { method, key, query: url.search, range: req.headers.range, fault: fault.kind };
    this.log.push(entry);

    switch (fault.kind) {
      case 'status': {
        const code = fault.code ?? (fault.status === 503 ? 'SlowDown' : 'InternalError');
        res.writeHead(fault.status, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by FaultProxy</Message></Error>`);
        return;
      }
      case 'reset':
        req.socket.destroy();
        return;
      case 'stall':
        await Promise.all([this.delay(fault.ms), fault.until?.catch(() => {})]);
        if (fault.then === 'drop') {
          req.socket.destroy();
          return;
        }
        break;
      default:
        break;
    }

    let upstream: IncomingMessage;
    try {
      upstream = await this.forward(req, body);
    } catch {
      req.socket.destroy();
      return;
    }
    entry.status = upstream.statusCode;
    if (fault.kind === 'lose-response') {
      upstream.resume();
      await new Promise((resolve) => upstream.on('end', resolve));
      req.socket.destroy();
      return;
    }
    if (res.destroyed || req.socket.destroyed) {
      upstream.resume();
      return;
    }
    res.writeHead(upstream.statusCode ?? 502, upstream.headers);
    if (fault.kind === 'stall-body') {
      let sent = 0;
      for await (const chunk of upstream) {
        const buf = chunk as Buffer;
        const room = fault.afterBytes - sent;
        if (room > 0) res.write(buf.subarray(0, room));
        sent += Math.min(room, buf.length);
        if (sent >= fault.afterBytes) break;
      }
      upstream.destroy();
      await this.delay(fault.ms);
      req.socket.destroy();
      return;
    }
    upstream.pipe(res);
  }

  private forward(req: IncomingMessage, body: Buffer): Promise<IncomingMessage> {
    const headers = { ...req.headers };
    // The proxy already read the body; an Expect header would make the upstream wait for nothing.
    delete headers.expect;
    return new Promise((resolve, reject) => {
      const out = httpRequest(
        { host: this.upstream.hostname, port: this.upstream.port, method: req.method, path: req.url, headers, agent: this.agent },
        resolve,
      );
      out.on('error', reject);
      out.end(body);
    });
  }
}
