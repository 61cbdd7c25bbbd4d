// The update bench's floor (tools/bench/update-fixture.ts) against what a
// refresh really does: Updater.refresh() on the bench's fixture, through
// recording verify and hash ports, must check exactly the floor's
// signatures (same key, signature and message, each once) and hash exactly
// the floor's bytes. The floor is derived from the metadata with the
// writer's canonical JSON, not from the client, so a refresh doing extra
// checks (or skipping one) fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { makeRefreshFixture } from '../tools/bench/update-fixture.js';
import { NobleHash } from '../src/update/hash-noble.js';
import type { FetchPort, HashPort, MetadataStore, SignatureVerifier } from '../src/update/ports.js';
import { Updater } from '../src/update/updater.js';
import { NobleSignatureVerifier } from '../src/update/verify-noble.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
/** A short name for one check (key, signature, message, outcome): the messages are whole signed parts. */
const id = (publicKey: string, sig: string, message: Uint8Array, ok: boolean): string => `${sha(Buffer.from(`${publicKey}|${sig}|${hex(message)}`)).slice(0, 16)}:${ok}`;

test('a refresh with no root change checks exactly the bench floor signatures and hashes exactly its bytes', async () => {
  const f = makeRefreshFixture();
  const base = 'https://repo.invalid/metadata/';
  const checked: string[] = [];
  const hashed: string[] = [];
  const real = new NobleSignatureVerifier();
  const verifier: SignatureVerifier = {
    verify(keytype, scheme, publicKey, message, sig) {
      const ok = real.verify(keytype, scheme, publicKey, message, sig);
      checked.push(id(publicKey, sig, message, ok));
      return ok;
    },
  };
  const noble = new NobleHash();
  const hash: HashPort = {
    digest(alg, bytes) {
      hashed.push(`${alg}:${sha(bytes)}`);
      return noble.digest(alg, bytes);
    },
  };
  const files = new Map(Object.entries(f.trusted));
  const store: MetadataStore = { load: (r) => files.get(r) ?? null, save: (r, b) => void files.set(r, b), remove: (r) => void files.delete(r) };
  const fetch: FetchPort = { fetch: async (url) => (url.startsWith(base) ? f.served[url.slice(base.length)] ?? null : null) };
  const clock = { now: () => ({ state: 'SYNCED', earliest: f.deviceTimeMs - 1000, latest: f.deviceTimeMs + 1000 }) };
  await new Updater({ metadataUrl: base, verifier, hash, fetch, store, clock }).refresh();

  assert.equal(files.get('timestamp'), f.served['timestamp.json'], 'the refresh took the new timestamp');
  const floor = f.floor.verifications.map((v) => id(v.public, v.sig, v.message, true));
  assert.deepEqual([...checked].sort(), [...floor].sort(), `${checked.length} signature checks, the floor has ${floor.length} (${f.floor.verifications.map((v) => v.what).join(', ')})`);
  assert.deepEqual([...hashed].sort(), f.floor.hashed.map((h) => `sha256:${sha(h.bytes)}`).sort());
});
