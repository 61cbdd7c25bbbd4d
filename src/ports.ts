// Ports: the only way the portable core touches the outside world.
//
// Core modules (everything in src/ except src/platform/) import no platform
// module. Adapters in src/platform/<platform>/ implement these interfaces for
// Node, the XS virtual device and Moddable boards, and are passed in as
// constructor arguments. Keep these interfaces small: each one is implemented
// several times, once per platform.

/** Incremental SHA-256. One instance is reused for many digests. */
export interface Sha256 {
  /** Start a new digest, discarding any state. */
  reset(): void;
  /** Absorb bytes[start, end). Must not keep a reference to `bytes`. */
  update(bytes: Uint8Array, start: number, end: number): void;
  /** Write the 32-byte digest to out[offset, offset + 32) and leave the instance needing reset(). */
  finish(out: Uint8Array, offset: number): void;
  /**
   * Optional (HMAC key caching): when the bytes absorbed since reset() are a
   * whole number of 64-byte blocks, writes the state (8 chaining words, then
   * the absorbed length as low and high 32-bit words: 10 words) into
   * state[0, 10) and returns true; otherwise writes nothing and returns
   * false. Backends that cannot export their state (e.g. Moddable's `crypt`
   * Digest) leave both methods out, and callers rehash instead.
   */
  saveState?(state: Int32Array): boolean;
  /** Optional, with saveState: continues from a state saveState() wrote (as if those bytes were absorbed after reset()). */
  restoreState?(state: Int32Array): void;
}

/** Makes independent SHA-256 instances. Called only at construction time. */
export type Sha256Factory = () => Sha256;

/** Raw tick source for the monotonic clock. */
export interface TickSource {
  /**
   * Current raw tick count. May wrap (`wrapBits`), may jump (simulator: wall
   * clock). The monotonic clock, not the source, deals with both.
   */
  ticks(): number;
  /** Ticks per second (1000 for Time.ticks, 1e6 for Time.microseconds). */
  readonly ticksPerSecond: number;
  /** Counter width in bits when it wraps (32 on ESP32/Pico), or 0 when it does not wrap within a run. */
  readonly wrapBits: number;
}

/** A datagram socket bound to an ephemeral local port. */
export interface UdpSocket {
  send(bytes: Uint8Array, address: string, port: number): void;
  /** Called for every datagram received; `bytes` is only valid during the call. */
  onReceive: ((bytes: Uint8Array, address: string, port: number) => void) | null;
  close(): void;
}

export interface UdpPort {
  open(): UdpSocket;
}

/** Host name resolution (DNS). */
export interface ResolverPort {
  /** Calls back at most once with an IPv4 literal, or null when the name did not resolve. */
  resolve(host: string, callback: (address: string | null) => void): void;
}

/** Schedules callbacks; the core never uses setTimeout directly. */
export interface TimerPort {
  set(callback: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

/** Source of randomness (nonces, jitter). */
export interface RandomPort {
  fill(bytes: Uint8Array): void;
  /**
   * True only when fill() draws from a cryptographically strong source (an
   * OS CSPRNG, a hardware RNG). The agent refuses a weak port outside its
   * development mode: the SNTP nonce is the only defence against off-path
   * spoofing.
   */
  readonly strong: boolean;
}

/** An HTTP header as received or sent, in order, duplicates allowed. */
export type HeaderList = Array<[name: string, value: string]>;

export interface HttpRequest {
  method: string;
  host: string;
  port: number;
  /** Wire path including the query string. */
  path: string;
  headers: HeaderList;
  body: Uint8Array | null;
}

export interface HttpResponse {
  status: number;
  headers: HeaderList;
  body: Uint8Array;
}

/** A request in progress at the port. */
export interface HttpExchange {
  /**
   * Abandons the request and frees what the port holds for it (socket,
   * buffers, slot). The callback is never called after cancel() returns.
   * Idempotent; harmless after the callback ran.
   */
  cancel(): void;
}

export interface HttpPort {
  /**
   * Exactly one of the callback's arguments is non-null. The port may impose
   * no deadline of its own: the core bounds every wait with its own timer
   * and cancels the exchange (shared/http-deadline.ts). The callback may run
   * before request() returns (e.g. a refusal for lack of slots). An answer
   * larger than the port can hold is an error whose `code` is 'too-large'
   * (the port stopped reading it), not a truncated body.
   */
  request(req: HttpRequest, callback: (error: Error | null, response: HttpResponse | null) => void): HttpExchange;
}

/**
 * Flash-like storage: erase a block (all bytes become 0xFF), write bytes that
 * are still erased, read anything. A power cut may interrupt a write or an
 * erase at any byte.
 */
export interface FlashPort {
  readonly blockSize: number;
  readonly blockCount: number;
  erase(block: number): void;
  read(offset: number, into: Uint8Array, start: number, length: number): void;
  write(offset: number, bytes: Uint8Array, start: number, length: number): void;
}

/**
 * The firmware store and restart, for updates: a flash that holds the A/B
 * slots and their boot record (src/update/slots.ts lays it out; the
 * bootloader reads the same layout), and a reboot that boots what that
 * record says.
 */
export interface FirmwarePort {
  readonly flash: FlashPort;
  /** Restarts the device; does not return on a board (the virtual device stops the engine after the current callback). */
  reboot(): void;
}

/** Small settings that survive reboot (trusted time floor, provisioning). */
export interface KeyValuePort {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

/** An open WebSocket (binary messages). */
export interface WebSocketLink {
  send(bytes: Uint8Array, start: number, end: number): void;
  close(): void;
}

export interface WebSocketHandlers {
  onOpen(): void;
  /** One binary message; `bytes` is valid only during the call. */
  onMessage(bytes: Uint8Array): void;
  /**
   * Called once; error is null for a clean close. `upgradeStatus` is the
   * HTTP status of a refused WebSocket upgrade, when the port can tell (401
   * or 403 on a presigned URL: the credentials or the signature were refused).
   */
  onClose(error: Error | null, upgradeStatus?: number): void;
}

/** WebSocket client (binary messages). Node: ws; Moddable: its WebSocket client over TLS. */
export interface WebSocketPort {
  connect(url: string, protocol: string, handlers: WebSocketHandlers): WebSocketLink;
}

/**
 * The platform's system clock, which its TLS stack checks certificate dates
 * against (Moddable: `Time.set()`; a board starts at 1970). The agent sets it
 * from the secure clock only: the midpoint of a SYNCED reading, after each
 * SNTP round that ends SYNCED (so again after every resync). Never from an
 * untrusted clock.
 */
export interface SystemClockPort {
  /** Epoch milliseconds. May throw (counted, retried on the next round). */
  set(unixMs: number): void;
  /**
   * True where TLS refuses certificates until the clock is set (boards): the
   * agent then opens no TLS connection (credentials, publish) before the first
   * successful set().
   */
  readonly requiredBeforeTls: boolean;
}
