// HTTPS publish transport and the answer classifier. The error texts are the
// ones AWS services return (quoted in tools/devcloud/aws-answers.ts from SDK
// issue reports), so the classification is checked against AWS's wording,
// not against our own strings.
import type { PortableSuite } from '../harness/portable.js';
import { classifyHttpAnswer } from '../../src/telemetry/http-status.js';
import { HttpsPublishTransport } from '../../src/telemetry/https-transport.js';
import { FakeClock, ManualTimer } from '../harness/fakes.js';
import type { SendOutcome } from '../../src/telemetry/deps.js';
import type { HttpRequest, HttpResponse } from '../../src/ports.js';
// No TextEncoder on Moddable's XS: these suites also run there (hil --target sim).
import { utf8Bytes, decodeUtf8 as decodeLenient } from '../../src/shared/utf8.js';
const utf8Text = (b: Uint8Array): string => decodeLenient(b, 0, b.length);

const enc = (s: string): Uint8Array => utf8Bytes(s);
const msg = (m: string): Uint8Array => enc(JSON.stringify({ message: m, traceId: 'abc' }));

const suite: PortableSuite = () => [
  {
    name: 'AWS answers map to ack / retry / skew / expired-token / auth / permanent',
    run(t) {
      const cases: Array<[number, Uint8Array, string]> = [
        [200, enc('{"message":"OK","traceId":"x"}'), 'ack'],
        [204, new Uint8Array(0), 'ack'],
        [429, msg('Rate exceeded'), 'retry'],
        [500, msg('Internal'), 'retry'],
        [503, msg('Service Unavailable'), 'retry'],
        [408, new Uint8Array(0), 'retry'],
        [403, msg('Signature expired: 20231107T044734Z is now earlier than 20231107T045305Z (20231107T045805Z - 5 min.)'), 'skew'],
        [403, msg('Signature not yet current: 20231107T050000Z is still later than 20231107T045805Z (20231107T045305Z + 5 min.)'), 'skew'],
        [400, enc('<Error><Code>RequestTimeTooSkewed</Code></Error>'), 'skew'],
        [403, enc('<Error><Code>RequestTimeTooSkewed</Code></Error>'), 'skew'],
        [403, msg('The security token included in the request is expired'), 'expired-token'],
        [403, enc('{"__type":"ExpiredTokenException"}'), 'expired-token'],
        [403, msg('The security token included in the request is invalid.'), 'auth'],
        [403, msg('The request signature we calculated does not match the signature you provided.'), 'auth'],
        [403, msg('Presigned URL expired'), 'auth'],
        [401, new Uint8Array(0), 'auth'],
        [413, msg('Payload too large'), 'permanent'],
        [400, msg('Bad request'), 'permanent'],
        [404, msg('Not found'), 'permanent'],
        [301, new Uint8Array(0), 'retry'],
      ];
      for (const [status, body, kind] of cases) t.equal(classifyHttpAnswer(status, body).kind, kind, `${status} ${utf8Text(body)}`);
      t.deepEqual(classifyHttpAnswer(413, new Uint8Array(0)), { kind: 'permanent', reason: 'http-413' });
    },
  },
  {
    name: 'the skew text is only looked for in a bounded prefix of the body',
    run(t) {
      const late = enc(`${' '.repeat(600)}Signature expired`);
      t.equal(classifyHttpAnswer(403, late).kind, 'auth');
    },
  },
  {
    name: 'HTTPS transport signs at send time, posts the body, votes the Date header, and classifies',
    run(t) {
      const timer = new ManualTimer();
      const clock = new FakeClock(timer);
      const requests: HttpRequest[] = [];
      let answer: ((e: Error | null, r: HttpResponse | null) => void) | null = null;
      const signed: Array<[string, number, string]> = [];
      const transport = new HttpsPublishTransport({
        http: {
          request(req, cb) {
            requests.push(req);
            answer = cb;
            return { cancel: () => (answer = null) };
          },
        },
        signer: {
          signPublish(c, topic, body, timeMs) {
            signed.push([topic, timeMs, c.accessKeyId]);
            return { path: `/topics/${topic.replace(/\//g, '%2F')}?qos=1`, headers: [['host', 'h'], ['x-amz-date', String(timeMs)], ['authorization', 'AWS4-HMAC-SHA256 ...']] };
          },
          presignMqtt: () => '',
        },
        host: 'example-ats.iot.us-east-1.amazonaws.com',
        clock,
        timer,
      });
      const outcomes: SendOutcome[] = [];
      const body = enc('{"device":"d"}xxxx');
      timer.advance(50);
      transport.publish('dt/d/telemetry', body, 14, { credentials: { accessKeyId: 'AKID', secretAccessKey: 's', sessionToken: 't', expirationMs: 0 }, timeMs: 1234 }, (o) => outcomes.push(o));
      t.deepEqual(signed, [['dt/d/telemetry', 1234, 'AKID']]);
      const r = requests[0]!;
      t.equal(r.method, 'POST');
      t.equal(r.port, 443);
      t.equal(r.path, '/topics/dt%2Fd%2Ftelemetry?qos=1');
      t.equal(utf8Text(r.body!), '{"device":"d"}', 'only the first `length` bytes are sent');
      answer!(null, { status: 200, headers: [['Date', 'Sun, 22 Nov 2026 12:00:00 GMT']], body: enc('{"message":"OK"}') });
      t.deepEqual(outcomes, [{ kind: 'ack' }]);
      t.deepEqual(clock.votes, [{ source: 'https:example-ats.iot.us-east-1.amazonaws.com', date: 'Sun, 22 Nov 2026 12:00:00 GMT', sentMonoMs: 50 }]);
      transport.publish('t', body, 1, { credentials: { accessKeyId: 'AKID', secretAccessKey: 's', sessionToken: 't', expirationMs: 0 }, timeMs: 1 }, (o) => outcomes.push(o));
      answer!(new Error('ECONNRESET'), null);
      t.deepEqual(outcomes[1], { kind: 'retry', reason: 'network' });
      transport.publish('t', body, 1, { credentials: { accessKeyId: 'AKID', secretAccessKey: 's', sessionToken: 't', expirationMs: 0 }, timeMs: 1 }, (o) => outcomes.push(o));
      const late = answer!;
      transport.close();
      t.equal(answer, null, 'close() cancels the exchange at the port');
      late(null, { status: 200, headers: [], body: new Uint8Array(0) });
      t.equal(outcomes.length, 2, 'an answer after close() is ignored');
      const failing = new HttpsPublishTransport({
        http: {
          request: () => {
            t.ok(false, 'nothing sent when signing fails');
            return { cancel() {} };
          },
        },
        signer: {
          signPublish: () => {
            throw Object.assign(new Error('x'), { code: 'LIMIT_EXCEEDED' });
          },
          presignMqtt: () => '',
        },
        host: 'h',
        timer,
      });
      failing.publish('t', body, 1, { credentials: { accessKeyId: 'AKID', secretAccessKey: 's', sessionToken: 't', expirationMs: 0 }, timeMs: 1 }, (o) => outcomes.push(o));
      t.deepEqual(outcomes[2], { kind: 'local', reason: 'sign-failed: LIMIT_EXCEEDED' }, "the device's own limit: held, not dead-lettered");
    },
  },
];
export default suite;
