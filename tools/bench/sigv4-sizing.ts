// Signer limits sized for exactly one request shape, so the working-memory
// figure is what a device configured for that shape would preallocate (not
// the generous DEFAULT_LIMITS). Sizes come from the shape itself and from
// aws-crt's signed output (independent of our signer), never from our output.
import type { BenchShape } from './sigv4-shapes.js';
import type { CrtResult } from './sigv4-peers.js';

/** RFC 3986 encoding length of an ASCII string (unreserved bytes stay, others become %XX). */
function encodedLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) n += /[A-Za-z0-9\-._~]/.test(text[i]!) ? 1 : 3;
  return n;
}

export function limitsFor(shape: BenchShape, crt: CrtResult): Record<string, number> {
  const query = shape.query.map(([k, v]) => `${k}=${v}`).join('&');
  let output: number;
  if (shape.mode === 'header') {
    // Every value the signer writes (date, content hash, Authorization). The token is not
    // copied into the output: SignedOutput exposes it from the credentials' single copy.
    output = crt.addedHeaders.filter(([n]) => n.toLowerCase() !== 'x-amz-security-token').reduce((n, [, v]) => n + v.length, 0);
  } else {
    output = crt.signedPath.length;
    // The token is appended after signing; aws-crt's own output may or may not carry it.
    if (shape.sessionToken !== null && !crt.signedPath.includes('X-Amz-Security-Token=')) {
      output += '&X-Amz-Security-Token='.length + encodedLength(shape.sessionToken);
    }
  }
  return {
    maxHeaders: shape.headers.length,
    maxHeaderNameBytes: shape.headers.reduce((n, [k]) => n + k.length, 0),
    // Raw lengths: at least the trimmed total and the longest raw value.
    maxHeaderValueBytes: shape.headers.reduce((n, [, v]) => n + v.length, 0),
    maxQueryPairs: shape.query.length,
    maxQueryBytes: query.length,
    maxPathBytes: shape.path.length,
    maxTokenBytes: shape.sessionToken?.length ?? 0,
    maxOutputBytes: output,
    maxDebugBytes: 0,
    // Presigning: keep the token's URL encoding, made once per setCredentials (what a device
    // that presigns MQTT URLs would configure), instead of encoding it on every presign.
    maxEncodedTokenBytes: shape.mode === 'query' && shape.sessionToken !== null ? encodedLength(shape.sessionToken) : 0,
  };
}
