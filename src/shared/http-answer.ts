// Reads an HttpResponse from a port as data: each field once (a getter may
// throw), a status that is an integer and a body that is bytes, or null.
import type { HttpResponse } from '../ports.js';

export interface HttpAnswer {
  status: number;
  /** As the port gave it: check Array.isArray before use. */
  headers: unknown;
  body: Uint8Array;
}

export function readHttpAnswer(response: HttpResponse): HttpAnswer | null {
  let status: unknown;
  let headers: unknown;
  let body: unknown;
  try {
    ({ status, headers, body } = response);
  } catch {
    return null;
  }
  if (typeof status !== 'number' || !Number.isInteger(status) || !(body instanceof Uint8Array)) return null;
  return { status, headers, body };
}
