// Several SDK calls (file write, HTTP body, WebSocket write) take a whole
// ArrayBuffer, not a view: this copies a range into a new one of exactly that
// size. The copy is the price of those APIs; callers keep it off hot paths.
export function copyToArrayBuffer(bytes: Uint8Array, start: number, length: number): ArrayBuffer {
  const copy = new ArrayBuffer(length);
  new Uint8Array(copy).set(bytes.subarray(start, start + length));
  return copy;
}
