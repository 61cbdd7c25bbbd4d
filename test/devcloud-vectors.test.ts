// The gateway's verifier against the shared SigV4 vectors
// (../shared/vectors/sigv4): every published signed request verifies (76
// aws-c-auth signatures, header and presigned; the botocore suite), and the
// same request with one extra query parameter does not. This checks the part
// of the verifier that is ours (rebuilding the request from the wire:
// signed-header selection, duplicates, folding, query handling, token rules)
// against signatures that came from elsewhere. botocore's
// get-vanilla-with-session-token .sreq is a known-bad file (it carries
// get-vanilla's signature; the vectors README says its .authz is right): the
// verifier must refuse the .sreq and accept it with the .authz value.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CredentialStore } from '../tools/devcloud/credential-store.js';
import { SigV4Verifier, type ReceivedRequest, type VerifyPolicy } from '../tools/devcloud/sigv4-verifier.js';
import { sharedMissing } from './harness/shared.js';

/** Every test here needs the vectors: they skip, saying why, when ../shared is not beside the repository. */
const skip = sharedMissing();
const VECTORS = resolve('../shared/vectors/sigv4');
const AWS_C_AUTH = join(VECTORS, 'aws-c-auth-v4');
const BOTOCORE = join(VECTORS, 'botocore-aws4_testsuite');
const FAR_FUTURE_MS = Date.UTC(2100, 0, 1);

interface Context {
  credentials: { access_key_id: string; secret_access_key: string; token?: string };
  region: string;
  service: string;
  timestamp: string;
  normalize?: boolean;
  omit_session_token?: boolean;
}

/** Parses a vector request file the way an HTTP server would hand it over: header values trimmed, folded lines joined by a space. */
function parseRequest(text: string): ReceivedRequest {
  const split = text.indexOf('\n\n');
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split + 2);
  const lines = head.split('\n');
  const requestLine = lines.shift()!;
  const method = requestLine.slice(0, requestLine.indexOf(' '));
  const wirePath = requestLine.slice(method.length + 1, requestLine.lastIndexOf(' '));
  const raw: string[] = [];
  for (const line of lines) {
    if (line.length === 0) continue;
    if (/^[ \t]/.test(line)) {
      raw[raw.length - 1] = `${raw[raw.length - 1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    raw.push(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return { method, wirePath, rawHeaders: raw, body: Buffer.from(body, 'utf8') };
}

function withExtraQuery(r: ReceivedRequest): ReceivedRequest {
  return { ...r, wirePath: r.wirePath + (r.wirePath.includes('?') ? '&' : '?') + 'devcloud-tamper=1' };
}

function verifierFor(c: Context): SigV4Verifier {
  const store = new CredentialStore();
  store.register({
    accessKeyId: c.credentials.access_key_id,
    secretAccessKey: c.credentials.secret_access_key,
    sessionToken: c.credentials.token ?? null,
    expirationMs: FAR_FUTURE_MS,
    thingName: 'vector',
    issuedMs: 0,
  });
  return new SigV4Verifier(store);
}

const cases = existsSync(AWS_C_AUTH) ? readdirSync(AWS_C_AUTH).filter((d) => existsSync(join(AWS_C_AUTH, d, 'context.json'))).sort() : [];

describe('verifier vs aws-c-auth vectors', { skip }, () => {
  test('the vectors are there', () => assert.ok(cases.length >= 38, `found ${cases.length} cases in ${AWS_C_AUTH}`));
  for (const name of cases) {
    for (const mode of ['header', 'query'] as const) {
      test(`${name} (${mode})`, async () => {
        const dir = join(AWS_C_AUTH, name);
        const c = JSON.parse(readFileSync(join(dir, 'context.json'), 'utf8')) as Context;
        const req = parseRequest(readFileSync(join(dir, `${mode}-signed-request.txt`), 'utf8'));
        const policy: VerifyPolicy = { region: c.region, services: [c.service], normalizePath: c.normalize ?? true, queryTokenSigned: !c.omit_session_token };
        const now = Date.parse(c.timestamp);
        const v = verifierFor(c);
        const good = await v.verify(req, policy, now);
        assert.ok(good.ok, good.ok ? '' : `${good.rejection.reason}: ${good.rejection.message}`);
        const bad = await v.verify(withExtraQuery(req), policy, now);
        assert.ok(!bad.ok && bad.rejection.reason === 'signature-mismatch', 'an extra query parameter breaks the signature');
      });
    }
  }
});

/** Case folders, also one level down (normalize-path/, post-sts-token/): relative path -> case name. */
function botocoreFolders(): Array<{ dir: string; name: string }> {
  if (!existsSync(BOTOCORE)) return [];
  const out: Array<{ dir: string; name: string }> = [];
  for (const d of readdirSync(BOTOCORE).sort()) {
    if (existsSync(join(BOTOCORE, d, `${d}.sreq`))) out.push({ dir: join(BOTOCORE, d), name: d });
    else if (!d.includes('.') && existsSync(join(BOTOCORE, d)) && !['LICENSE', 'NOTICE'].includes(d)) {
      for (const sub of readdirSync(join(BOTOCORE, d)).sort()) if (existsSync(join(BOTOCORE, d, sub, `${sub}.sreq`))) out.push({ dir: join(BOTOCORE, d, sub), name: sub });
    }
  }
  return out;
}
const botocoreCases = botocoreFolders();
const BOTOCORE_CONTEXT: Context = {
  credentials: { access_key_id: 'AKIDEXAMPLE', secret_access_key: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  region: 'us-east-1',
  service: 'service',
  timestamp: '2015-08-30T12:36:00Z',
};

describe('verifier vs botocore vectors', { skip }, () => {
  test('the vectors are there', () => assert.ok(botocoreCases.length >= 34, `found ${botocoreCases.length} cases in ${BOTOCORE}`));
  for (const { dir, name } of botocoreCases) {
    test(name, async () => {
      const req = parseRequest(readFileSync(join(dir, `${name}.sreq`), 'utf8'));
      // botocore supplies the token as a credential; the signed request shows it in X-Amz-Security-Token.
      const at = req.rawHeaders.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === 'x-amz-security-token');
      const token = at < 0 ? undefined : req.rawHeaders[at + 1];
      const c: Context = { ...BOTOCORE_CONTEXT, credentials: { ...BOTOCORE_CONTEXT.credentials, ...(token ? { token } : {}) } };
      const v = verifierFor(c);
      const policy: VerifyPolicy = { region: c.region, services: [c.service] };
      const now = Date.parse(c.timestamp);
      const result = await v.verify(req, policy, now);
      if (name === 'get-vanilla-with-session-token') {
        assert.ok(!result.ok && result.rejection.reason === 'signature-mismatch', 'the .sreq carries the wrong signature');
        const authz = readFileSync(join(dir, `${name}.authz`), 'utf8').trim();
        const fixed = [...req.rawHeaders];
        fixed[fixed.findIndex((h) => h.toLowerCase() === 'authorization') + 1] = authz;
        const corrected = await v.verify({ ...req, rawHeaders: fixed }, policy, now);
        assert.ok(corrected.ok, 'accepted with the .authz signature');
        return;
      }
      assert.ok(result.ok, result.ok ? '' : `${result.rejection.reason}: ${result.rejection.message}`);
      assert.ok(!(await v.verify(withExtraQuery(req), policy, now)).ok);
    });
  }
});
