// The virtual device's link to its Node host.
//
// Inside xsnap-worker the only way out is the global `issueCommand(ArrayBuffer)`
// (synchronous: XS blocks until the host answers), and the only way in is the
// host calling `globalThis.handleCommand(ArrayBuffer)`. Both directions use one
// frame format: [u32 little-endian JSON length][JSON in UTF-8][raw payload].
// Requests that take time (UDP, HTTP, timers) return at once with an id; the
// host later delivers an event frame `{ev, id, ...}` to handleCommand, which
// dispatches to the adapter that owns the id.

declare function issueCommand(message: ArrayBuffer): ArrayBuffer;

export interface Frame {
  head: Record<string, unknown>;
  payload: Uint8Array;
}

export type EventHandler = (head: Record<string, unknown>, payload: Uint8Array) => void;

export function encodeFrame(head: Record<string, unknown>, payload?: Uint8Array): ArrayBuffer {
  const json = new TextEncoder().encode(JSON.stringify(head));
  const n = payload ? payload.length : 0;
  const out = new Uint8Array(4 + json.length + n);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  if (payload) out.set(payload, 4 + json.length);
  return out.buffer;
}

export function decodeFrame(buffer: ArrayBuffer): Frame {
  const bytes = new Uint8Array(buffer);
  if (bytes.length < 4) return { head: {}, payload: new Uint8Array(0) };
  const n = new DataView(buffer).getUint32(0, true);
  const head = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n))) as Record<string, unknown>;
  return { head, payload: bytes.subarray(4 + n) };
}

export class HostError extends Error {
  override name = 'HostError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** One per virtual device. Owns handleCommand and routes host events by kind. */
export class HostBridge {
  private readonly handlers = new Map<string, EventHandler>();
  private nextId = 1;

  install(): void {
    (globalThis as unknown as { handleCommand: (b: ArrayBuffer) => ArrayBuffer }).handleCommand = (buffer) => {
      const { head, payload } = decodeFrame(buffer);
      const handler = this.handlers.get(String(head.ev));
      if (handler) handler(head, payload);
      return new ArrayBuffer(0);
    };
  }

  /** Registers the handler for host events of one kind (`timer`, `udp`, `http`, ...). */
  on(ev: string, handler: EventHandler): void {
    this.handlers.set(ev, handler);
  }

  id(): number {
    return this.nextId++;
  }

  /** Synchronous call to the host. Throws HostError when the host reports one. */
  call(op: string, args: Record<string, unknown> = {}, payload?: Uint8Array): Frame {
    const reply = decodeFrame(issueCommand(encodeFrame({ op, ...args }, payload)));
    if (typeof reply.head.error === 'string') throw new HostError(String(reply.head.code ?? 'HOST'), reply.head.error);
    return reply;
  }
}
