// What the uploader and the credentials client need from the secure clock.
// src/time SecureClock fits as is; tests pass fakes.
import type { HeaderList } from '../ports.js';

/** A reading of the secure clock (epoch ms). SecureClock#now() returns one (a ClockReading). */
export interface TimeReading {
  /** 'SYNCED' and 'FREE_RUNNING' are trusted; anything else is not. */
  state: string;
  /** Unix ms; true time is not before this. */
  earliest: number;
  /** Unix ms; true time is not after this (Infinity when untrusted). */
  latest: number;
  /** Half-width of [earliest, latest] in ms (Infinity when untrusted). */
  bound: number;
}

export interface TimeAuthority {
  now(): TimeReading;
  /** Evidence says our time is wrong (a skew answer): drop trust and resync. */
  markDisrupted(reason: string): void;
  /** Monotonic ms, to time a request's round trip. */
  monoNow(): number;
  /** Offers a response's Date header as a time vote; returns a verdict for logs. */
  addDateVote(source: string, headers: HeaderList, sentMonoMs: number): string;
  /**
   * The cloud accepted a request SigV4-signed at `signedAtMs` (a 2xx answer,
   * or CONNACK 0 on a presigned URL): authenticated evidence that true time
   * is at least signedAtMs - SIGV4_MAX_SKEW_MS. Raises the trusted floor.
   */
  acceptedSignature(signedAtMs: number): void;
}
