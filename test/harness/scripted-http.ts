// A scripted HttpPort for portable suites (ES2022 only): records every
// request, and answers each with the handler's result, synchronously or
// later (`hold`), or never (a hung server: the core's deadline must act).
import type { HttpExchange, HttpPort, HttpRequest, HttpResponse } from '../../src/ports.js';
import { utf8Bytes } from '../../src/shared/utf8.js';

export type ScriptedAnswer = HttpResponse | Error | 'hang' | 'hold';
export type ScriptedHandler = (req: HttpRequest) => ScriptedAnswer;

export interface HeldExchange {
  req: HttpRequest;
  answer(error: Error | null, response: HttpResponse | null): void;
}

export function response(status: number, body: Uint8Array | string = new Uint8Array(0), headers: Array<[string, string]> = []): HttpResponse {
  return { status, headers, body: typeof body === 'string' ? utf8Bytes(body) : body };
}

export function header(req: HttpRequest, name: string): string | null {
  for (const [n, v] of req.headers) if (n.toLowerCase() === name) return v;
  return null;
}

export class ScriptedHttp implements HttpPort {
  readonly requests: HttpRequest[] = [];
  readonly held: HeldExchange[] = [];
  cancelled = 0;
  constructor(public handler: ScriptedHandler) {}

  request(req: HttpRequest, callback: (error: Error | null, response: HttpResponse | null) => void): HttpExchange {
    this.requests.push(req);
    let live = true;
    const exchange: HttpExchange = {
      cancel: () => {
        if (live) this.cancelled++;
        live = false;
      },
    };
    const answer = this.handler(req);
    if (answer === 'hang') return exchange;
    if (answer === 'hold') {
      this.held.push({
        req,
        answer: (e, r) => {
          if (!live) return;
          live = false;
          callback(e, r);
        },
      });
      return exchange;
    }
    live = false;
    if (answer instanceof Error) callback(answer, null);
    else callback(null, answer);
    return exchange;
  }
}
