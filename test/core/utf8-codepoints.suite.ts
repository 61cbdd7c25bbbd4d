// UTF-8 encoding must be right on every XS the firmware runs on. Moddable's
// XS on devices and in the simulator indexes strings by code point, so
// charCodeAt returns a character above U+FFFF whole (found by `hil --target
// sim`: the emoji came out as 3 wrong bytes). Node and xsnap index by UTF-16
// unit. These cases feed both shapes to the encoders: the real string, and a
// string-like object that answers charCodeAt as Moddable's XS does. They run
// against the firmware's one UTF-8 implementation, src/shared/utf8.ts. Expected
// bytes are those of the Unicode standard for U+0061 U+00E9 U+20AC U+1F600.
import type { PortableSuite } from '../harness/portable.js';
import { decodeUtf8, encodeUtf8Into, utf8Length, UTF8_LONE_SURROGATE } from '../../src/shared/utf8.js';

const EXPECTED = [0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80];
const CODE_POINTS = [0x61, 0xe9, 0x20ac, 0x1f600];

/** What Moddable's XS gives for 'aé€😀': four characters, the last one U+1F600 itself. */
function codePointString(cps: number[]): string {
  return { length: cps.length, charCodeAt: (i: number) => cps[i] } as unknown as string;
}

const text = 'a\u00e9\u20ac\u{1f600}';

const suite: PortableSuite = () => [
  {
    name: 'signer encoder: the engine\u2019s own string and a code-point-indexed string give the same bytes',
    run(t) {
      for (const s of [text, codePointString(CODE_POINTS)]) {
        const out = new Uint8Array(16);
        const end = encodeUtf8Into(s, 0, s.length, out, 0, out.length);
        t.deepEqual(Array.from(out.subarray(0, end)), EXPECTED);
        t.equal(utf8Length(s, 0, s.length), EXPECTED.length);
      }
    },
  },
  {
    name: 'length with lone surrogates replaced (the Moddable preference store) counts a whole code point as 4 bytes and U+FFFD as 3',
    run(t) {
      for (const s of [text, codePointString(CODE_POINTS)]) t.equal(utf8Length(s, 0, s.length, true), EXPECTED.length);
      // 'a' (1) + lone high surrogate as U+FFFD (3) + 'b' (1); a lone low surrogate likewise.
      t.equal(utf8Length(codePointString([0x61, 0xd800, 0x62]), 0, 3, true), 5);
      t.equal(utf8Length(codePointString([0xdc00]), 0, 1, true), 3);
      t.equal(utf8Length(codePointString([0x61, 0xd800, 0x62]), 0, 3), UTF8_LONE_SURROGATE);
    },
  },
  {
    name: 'decoding gives back the engine\u2019s own string for a 4-byte character',
    run(t) {
      t.equal(decodeUtf8(new Uint8Array(EXPECTED), 0, EXPECTED.length), text);
      t.equal(decodeUtf8(new Uint8Array(EXPECTED), 0, EXPECTED.length, 'refuse'), text);
    },
  },
  {
    name: 'malformed bytes: replaced one U+FFFD per bad byte, or refused (null)',
    run(t) {
      // A stray continuation byte, an overlong '/', a truncated 4-byte sequence, an encoded surrogate.
      const cases: Array<[number[], string]> = [
        [[0x61, 0x80, 0x62], 'a\ufffdb'],
        [[0xc0, 0xaf], '\ufffd\ufffd'],
        [[0xf0, 0x9f, 0x98], '\ufffd\ufffd\ufffd'],
        [[0xed, 0xa0, 0x80], '\ufffd\ufffd\ufffd'],
      ];
      for (const [bytes, replaced] of cases) {
        const b = new Uint8Array(bytes);
        t.equal(decodeUtf8(b, 0, b.length), replaced);
        t.equal(decodeUtf8(b, 0, b.length, 'refuse'), null);
      }
    },
  },
  {
    name: 'a lone surrogate is still refused (where the engine can hold one)',
    run(t) {
      const out = new Uint8Array(8);
      t.equal(encodeUtf8Into(codePointString([0x61, 0xd800]), 0, 2, out, 0, 8), UTF8_LONE_SURROGATE);
    },
  },
];
export default suite;
