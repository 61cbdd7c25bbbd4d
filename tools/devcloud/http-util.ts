// Small HTTP helpers shared by the gateway, the credentials provider and the
// admin API: bounded body reading, writing answers (also on a raw socket, for
// refused WebSocket upgrades), and tracking connections so pause/restart/stop
// can cut them.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Server } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WireAnswer } from './aws-answers.js';

export type BodyResult = { ok: true; body: Buffer } | { ok: false; tooLarge: true } | { ok: false; tooLarge: false };

/** Reads the request body, refusing more than `limit` bytes (declared or actual). */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ ok: false, tooLarge: true });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        done = true;
        resolve({ ok: false, tooLarge: true });
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!done) {
        done = true;
        resolve({ ok: true, body: Buffer.concat(chunks, size) });
      }
    });
    req.on('error', () => {
      if (!done) {
        done = true;
        resolve({ ok: false, tooLarge: false });
      }
    });
  });
}

export function sendAnswer(res: ServerResponse, answer: WireAnswer, closeAfter = false): void {
  const headers: Record<string, string> = { ...answer.headers };
  if (closeAfter) headers.connection = 'close';
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

/** Answers on a socket whose HTTP request was an Upgrade, then closes it. */
export function sendAnswerOnSocket(socket: Duplex, answer: WireAnswer): void {
  const lines = [`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Error'}`];
  for (const [k, v] of Object.entries(answer.headers)) lines.push(`${k}: ${v}`);
  lines.push('connection: close', '', '');
  socket.end(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), answer.body]));
}

/** Remembers a server's open connections so they can all be cut. */
export class ConnectionTracker {
  private readonly open = new Set<Duplex>();
  watch(server: Server): void {
    server.on('connection', (s: Duplex) => this.add(s));
  }
  add(s: Duplex): void {
    this.open.add(s);
    s.once('close', () => this.open.delete(s));
  }
  /** Destroys every open connection; returns how many. */
  cutAll(): number {
    const n = this.open.size;
    for (const s of this.open) s.destroy();
    this.open.clear();
    return n;
  }
  get size(): number {
    return this.open.size;
  }
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? a.port : port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
