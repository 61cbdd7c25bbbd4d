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
// TUF repository (served by the gateway under /tuf/):
//   GET  /tuf/status                 served dir, keys dir or null, root file, versions, armed TUF faults
//   GET  /tuf/requests?since=N       log of /tuf/ requests (path, range, status, fault)
//   POST /tuf/serve     {dir, keysDir?}   serve another repository directory
//   POST /tuf/targets   {name, content (base64) | file, custom?, publish?: true}   add a target and publish
//   POST /tuf/publish   {bump?: ['targets'|'snapshot']}
//   POST /faults/tuf/tamper {match?}  /faults/tuf/withhold-snapshot  /faults/tuf/capture-timestamp
//   POST /faults/tuf/replay-timestamp  /faults/tuf/endless {match?}  /faults/tuf/slow {bytesPerSecond, match?}  /faults/tuf/clear
// IoT Jobs:
//   POST /jobs          {thing, document (object or string), jobId?}
//   GET  /jobs/execution?thing=T&jobId=J     GET /jobs/executions[?thing=T]
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { TufRepoError } from '../tuf-repo/errors.js';
import type { DevCloud } from './devcloud.js';
import type { DropWhen, FaultTarget, InjectedStatus, PauseMode } from './faults.js';
import { ConnectionTracker, closeServer, listen, readBody } from './http-util.js';

/** Largest admin request body. */
export const MAX_ADMIN_BODY_BYTES = 4096;
/** Largest body of POST /tuf/targets (a base64 target) and POST /jobs (a job document). */
export const MAX_ADMIN_UPLOAD_BYTES = 16 * 1024 * 1024;
const UPLOAD_ROUTES = new Set(['/tuf/targets', '/jobs']);

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
    const limit = UPLOAD_ROUTES.has(url.pathname) ? MAX_ADMIN_UPLOAD_BYTES : MAX_ADMIN_BODY_BYTES;
    const read = await readBody(req, limit);
    if (!read.ok) return this.send(res, 413, { error: 'BAD_ADMIN_REQUEST', message: `body larger than ${limit} bytes` });
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
        case 'GET /tuf/status': {
          const repo = c.tuf.repo;
          return this.send(res, 200, { dir: repo.dir, keysDir: repo.keysDir, rootFile: c.tuf.rootFile(), faults: c.faults.tuf.state() });
        }
        case 'GET /tuf/requests': {
          const since = Number(url.searchParams.get('since') ?? '0');
          if (!Number.isSafeInteger(since) || since < 0) throw new AdminInputError("'since' must be a non-negative integer");
          return this.send(res, 200, { requests: c.tufRequests(since) });
        }
        case 'POST /tuf/serve':
          c.serveTufRepo(str<string>(body, 'dir', ''), optionalStr(body, 'keysDir') ?? null);
          return this.send(res, 200, { ok: true, dir: c.tuf.repo.dir, rootFile: c.tuf.rootFile() });
        case 'POST /tuf/targets': {
          const name = str<string>(body, 'name', '');
          const file = optionalStr(body, 'file');
          const content = optionalStr(body, 'content');
          if ((file === undefined) === (content === undefined)) throw new AdminInputError("give exactly one of 'content' (base64) and 'file'");
          const bytes = file !== undefined ? readFileSync(file) : Buffer.from(content!, 'base64');
          const custom = body.custom;
          if (custom !== undefined && (typeof custom !== 'object' || custom === null || Array.isArray(custom))) throw new AdminInputError("'custom' must be a JSON object");
          const publish = body.publish ?? true;
          if (typeof publish !== 'boolean') throw new AdminInputError("'publish' must be a boolean");
          return this.send(res, 200, { ok: true, ...c.addTufTarget(name, bytes, custom as Record<string, unknown> | undefined, publish) });
        }
        case 'POST /tuf/publish': {
          const bump = body.bump ?? [];
          if (!Array.isArray(bump) || bump.some((b) => b !== 'targets' && b !== 'snapshot')) throw new AdminInputError("'bump' must be a list of 'targets' and 'snapshot'");
          return this.send(res, 200, { ok: true, versions: c.publishTuf(bump as Array<'targets' | 'snapshot'>) });
        }
        case 'POST /faults/tuf/tamper':
          c.setTufFault({ kind: 'tamper-target', match: optionalStr(body, 'match') });
          break;
        case 'POST /faults/tuf/withhold-snapshot':
          c.setTufFault({ kind: 'withhold-snapshot' });
          break;
        case 'POST /faults/tuf/capture-timestamp':
          return this.send(res, 200, { ok: true, version: c.captureTimestamp() });
        case 'POST /faults/tuf/replay-timestamp':
          c.setTufFault({ kind: 'replay-timestamp' });
          break;
        case 'POST /faults/tuf/endless':
          c.setTufFault({ kind: 'endless', match: optionalStr(body, 'match') });
          break;
        case 'POST /faults/tuf/slow':
          c.setTufFault({ kind: 'slow', bytesPerSecond: num(body, 'bytesPerSecond'), match: optionalStr(body, 'match') });
          break;
        case 'POST /faults/tuf/clear':
          c.clearTufFaults();
          break;
        case 'POST /jobs': {
          const thing = str<string>(body, 'thing', '');
          const document = body.document;
          if (typeof document !== 'string' && (typeof document !== 'object' || document === null)) throw new AdminInputError("'document' must be a JSON object or a string");
          return this.send(res, 200, { ok: true, execution: c.createJob(thing, document, optionalStr(body, 'jobId')) });
        }
        case 'GET /jobs/execution': {
          const thing = url.searchParams.get('thing');
          const jobId = url.searchParams.get('jobId');
          if (thing === null || jobId === null) throw new AdminInputError("'thing' and 'jobId' query parameters are required");
          const e = c.jobExecution(thing, jobId);
          if (e === undefined) return this.send(res, 404, { error: 'NOT_FOUND', message: `no job ${jobId} for ${thing}` });
          return this.send(res, 200, { execution: e });
        }
        case 'GET /jobs/executions':
          return this.send(res, 200, { executions: c.jobExecutions(url.searchParams.get('thing') ?? undefined) });
        default:
          return this.send(res, 404, { error: 'NOT_FOUND', message: `no admin route ${key}` });
      }
      return this.send(res, 200, { ok: true });
    } catch (e) {
      const err = e as Error & { code?: string };
      const status =
        e instanceof AdminInputError || e instanceof RangeError || e instanceof SyntaxError || e instanceof TufRepoError || err.code === 'BAD_THING_NAME' || err.code === 'BAD_OPTION' || err.code === 'ENOENT'
          ? 400
          : 500;
      return this.send(res, status, { error: err.code ?? (status === 400 ? 'BAD_ADMIN_REQUEST' : 'INTERNAL'), message: err.message });
    }
  }
}
