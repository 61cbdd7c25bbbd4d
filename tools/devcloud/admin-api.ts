// Admin HTTP API for fault injection and observation from other processes
// (the virtual device runner, shell scripts). Plain HTTP, always bound to
// 127.0.0.1 whatever the dev cloud's bind address: it can expire credentials
// and shift clocks, so it must not be reachable from the LAN.
//
//   GET  /status                     endpoints, counters, clock shift, armed faults
//   GET  /counters                   counters only
//   GET  /messages?since=N           accepted-message log from index N
//   POST /faults/fail   {status: 429|500|503, count, target?: publish|mqtt|credentials|any}
//   POST /faults/drop   {count, when?: before|after, target?}
//   POST /faults/cut                 cut every open gateway connection now
//   POST /faults/pause  {mode?: refuse|hang}
//   POST /faults/resume
//   POST /faults/clear
//   POST /restart                    stop + start on the same ports, keep CA and credentials
//   POST /clock         {shiftMs}
//   POST /credentials/expire   {accessKeyId?}
//   POST /credentials/lifetime {seconds}
//   POST /observability/reset
//   POST /provision     {thing, endpoint?}  device certificate, key and provisioning JSON (answers file paths, never key material)
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { DevCloud } from './devcloud.js';
import type { DropWhen, FaultTarget, InjectedStatus, PauseMode } from './faults.js';
import { ConnectionTracker, closeServer, listen, readBody } from './http-util.js';

/** Largest admin request body. */
export const MAX_ADMIN_BODY_BYTES = 4096;

class AdminInputError extends Error {
  override name = 'AdminInputError';
  readonly code = 'BAD_ADMIN_REQUEST';
}

function num(body: Record<string, unknown>, key: string, fallback?: number): number {
  const v = body[key] ?? fallback;
  if (typeof v !== 'number') throw new AdminInputError(`'${key}' must be a number`);
  return v;
}

function str<T extends string>(body: Record<string, unknown>, key: string, fallback: T): T {
  const v = body[key] ?? fallback;
  if (typeof v !== 'string') throw new AdminInputError(`'${key}' must be a string`);
  return v as T;
}

function optionalStr(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v !== undefined && typeof v !== 'string') throw new AdminInputError(`'${key}' must be a string`);
  return v;
}

export class AdminApi {
  private server: Server | null = null;
  private readonly tracker = new ConnectionTracker();
  port = 0;

  constructor(private readonly cloud: DevCloud) {}

  async start(port: number): Promise<void> {
    const server = createServer((req, res) => void this.onRequest(req, res));
    this.tracker.watch(server);
    this.server = server;
    this.port = await listen(server, port, '127.0.0.1');
  }

  async stop(): Promise<void> {
    this.tracker.cutAll();
    if (this.server) await closeServer(this.server);
    this.server = null;
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    const bytes = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(bytes.length), date: new Date(this.cloud.clock.now()).toUTCString() });
    res.end(bytes);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const read = await readBody(req, MAX_ADMIN_BODY_BYTES);
    if (!read.ok) return this.send(res, 413, { error: 'BAD_ADMIN_REQUEST', message: `body larger than ${MAX_ADMIN_BODY_BYTES} bytes` });
    let body: Record<string, unknown> = {};
    try {
      if (read.body.length > 0) {
        const parsed: unknown = JSON.parse(read.body.toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new AdminInputError('body must be a JSON object');
        body = parsed as Record<string, unknown>;
      }
      const c = this.cloud;
      const key = `${req.method} ${url.pathname}`;
      switch (key) {
        case 'GET /status':
          return this.send(res, 200, { endpoints: c.endpoints(), counters: c.counters(), clockShiftMs: c.clock.shiftMs, faults: c.faults.state() });
        case 'GET /counters':
          return this.send(res, 200, c.counters());
        case 'GET /messages': {
          const since = Number(url.searchParams.get('since') ?? '0');
          if (!Number.isSafeInteger(since) || since < 0) throw new AdminInputError("'since' must be a non-negative integer");
          return this.send(res, 200, { messages: c.messages(since) });
        }
        case 'POST /faults/fail':
          c.failNext(num(body, 'status') as InjectedStatus, num(body, 'count'), str<FaultTarget | 'any'>(body, 'target', 'publish'));
          break;
        case 'POST /faults/drop':
          c.dropNext(num(body, 'count'), str<DropWhen>(body, 'when', 'before'), str<FaultTarget | 'any'>(body, 'target', 'publish'));
          break;
        case 'POST /faults/cut':
          return this.send(res, 200, { ok: true, cut: c.cutConnections() });
        case 'POST /faults/pause':
          await c.pause(str<PauseMode>(body, 'mode', 'refuse'));
          break;
        case 'POST /faults/resume':
          await c.resume();
          break;
        case 'POST /faults/clear':
          c.clearFaults();
          break;
        case 'POST /restart':
          await c.restart();
          break;
        case 'POST /clock':
          c.shiftClock(num(body, 'shiftMs'));
          break;
        case 'POST /credentials/expire':
          return this.send(res, 200, { ok: true, expired: c.expireCredentials(optionalStr(body, 'accessKeyId')) });
        case 'POST /credentials/lifetime':
          c.setCredentialLifetime(num(body, 'seconds'));
          break;
        case 'POST /provision': {
          const thing = str<string>(body, 'thing', '');
          const endpoint = optionalStr(body, 'endpoint');
          const d = await c.provision(thing, endpoint);
          return this.send(res, 200, { ok: true, thingName: d.thingName, provisioningFile: d.provisioningFile, certFile: d.certFile, keyFile: d.keyFile });
        }
        case 'POST /observability/reset':
          c.observe.reset();
          break;
        default:
          return this.send(res, 404, { error: 'NOT_FOUND', message: `no admin route ${key}` });
      }
      return this.send(res, 200, { ok: true });
    } catch (e) {
      const err = e as Error & { code?: string };
      const status = e instanceof AdminInputError || e instanceof RangeError || e instanceof SyntaxError || err.code === 'BAD_THING_NAME' || err.code === 'BAD_OPTION' ? 400 : 500;
      return this.send(res, status, { error: err.code ?? (status === 400 ? 'BAD_ADMIN_REQUEST' : 'INTERNAL'), message: err.message });
    }
  }
}
