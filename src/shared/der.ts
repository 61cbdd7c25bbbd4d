// A bounded reader of ASN.1 DER, shared by what parses keys in the core (the
// board's device-key check, the update verifier's SubjectPublicKeyInfo):
// definite lengths only, minimal length encoding, at most 4 length bytes, no
// high tag numbers. Malformed input is null, never an exception.

/** One TLV: its tag and the content range [start, end) in the buffer. */
export interface Tlv {
  tag: number;
  start: number;
  end: number;
}

/** The TLV at `at`, which must end by `limit`; null when malformed. */
export function derTlv(der: Uint8Array, at: number, limit: number): Tlv | null {
  if (at + 2 > limit) return null;
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) return null;
  let len = der[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[p++]!;
    if (len < 0x80 || (n > 1 && der[at + 2] === 0)) return null;
  }
  if (p + len > limit) return null;
  return { tag, start: p, end: p + len };
}

/** The children of a constructed TLV, at most `max`; null unless they tile it exactly. */
export function derChildren(der: Uint8Array, parent: Tlv, max: number): Tlv[] | null {
  const out: Tlv[] = [];
  let at = parent.start;
  while (at < parent.end) {
    if (out.length >= max) return null;
    const t = derTlv(der, at, parent.end);
    if (t === null) return null;
    out.push(t);
    at = t.end;
  }
  return out;
}
