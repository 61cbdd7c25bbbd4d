// UpdateService (src/agent/updates.ts) with fakes: a mac-signed TUF
// repository served over a scripted HttpPort (metadata, targets with Range,
// and the IoT Jobs data plane), manual timers, in-memory kv and flash.
import type { PortableSuite } from '../harness/portable.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { FakeClock, FakeCredentials, FixedRandom, ManualTimer, MemoryKeyValue } from '../harness/fakes.js';
import { MemoryFlash } from '../harness/memory-flash.js';
import { ScriptedHttp, header, response } from '../harness/scripted-http.js';
import { MacRepo, hexOf, key, macVerifier } from '../harness/tuf-mac-repo.js';
import { JobsClient } from '../../src/agent/jobs-client.js';
import { REFUSED_EVENT_REPEAT_MS, UpdateService, type UpdateConfig } from '../../src/agent/updates.js';
import { HttpRepositoryFetch } from '../../src/update/http-fetch.js';
import { FirmwareSlots } from '../../src/update/slots.js';
import { ConfigStore } from '../../src/update/config-bundle.js';
import type { HttpRequest } from '../../src/ports.js';
import { decodeUtf8, utf8Bytes } from '../../src/shared/utf8.js';

const NOW = Date.UTC(2030, 0, 1);
const CREDS = { accessKeyId: 'ASIAUPDATES', secretAccessKey: 'secret', sessionToken: 'token', expirationMs: NOW + 3_600_000 };
const CONFIG_PATH = 'config/prod/vdevice/agent.json';
const FW_PATH = 'firmware/prod/vdevice/agent-2.js';
const COMPILED = { sampleIntervalMs: 60_000, healthIntervalMs: 60_000, minSources: 2, maxBoundMs: 60_000, phiPpm: 50 };

const custom = (kind: string, securityVersion: number, extra: Record<string, unknown> = {}) => ({ kind, channel: 'prod', hardwareModel: 'vdevice', securityVersion, ...extra });

interface Job {
  id: string;
  doc: string;
  status: string;
  details: Record<string, string> | null;
}

/** A kv whose `beforeSet` may throw (a power cut at that write: it does not happen). */
class CuttableKeyValue extends MemoryKeyValue {
  beforeSet: ((key: string, value: string) => void) | null = null;
  override set(key: string, value: string): void {
    this.beforeSet?.(key, value);
    super.set(key, value);
  }
}

/** The repository, the jobs endpoint and a device's ports; `boot()` builds a fresh service on the same kv and flash (a reboot). */
class World {
  readonly repo = new MacRepo();
  readonly targets = new Map<string, Uint8Array>();
  readonly jobs: Job[] = [];
  readonly timer = new ManualTimer();
  readonly clock = new FakeClock(this.timer);
  readonly kv = new CuttableKeyValue();
  /** Power is off: nothing answers (the service of this boot is abandoned; boot() powers on). */
  dead = false;
  readonly flash = new MemoryFlash({ blockSize: 1024, blockCount: 2 + 2 * 16 });
  readonly events: Array<Record<string, unknown>> = [];
  readonly applied: unknown[] = [];
  reboots = 0;
  progress = { timeTrusted: true, credentials: true, acked: 0 };
  /** Bytes flipped in served targets (a tampering mirror). */
  tamper = false;
  readonly http = new ScriptedHttp((req) => this.serve(req));
  service: UpdateService | null = null;

  constructor(readonly config: Partial<UpdateConfig> = {}) {
    this.clock.set('SYNCED', NOW, 100);
  }

  serve(req: HttpRequest) {
    if (this.dead) return 'hang' as const;
    if (req.path.startsWith('/tuf/metadata/')) {
      const f = this.repo.files.get(req.path.slice('/tuf/metadata/'.length));
      return f === undefined ? response(404) : response(200, f);
    }
    if (req.path.startsWith('/tuf/targets/')) {
      let f = this.targets.get(req.path.slice('/tuf/targets/'.length));
      if (f === undefined) return response(404);
      if (this.tamper) {
        f = f.slice();
        f[0] = f[0]! ^ 1;
      }
      const r = header(req, 'range');
      if (r === null) return response(200, f);
      const m = /^bytes=(\d+)-(\d+)$/.exec(r)!;
      const a = Number(m[1]);
      const b = Math.min(Number(m[2]), f.length - 1);
      if (a >= f.length) return response(416);
      return response(206, f.slice(a, b + 1), [['content-range', `bytes ${a}-${b}/${f.length}`]]);
    }
    const next = /^\/things\/dev-1\/jobs\/\$next$/.exec(req.path);
    if (next !== null && req.method === 'PUT') {
      const j = this.jobs.find((x) => x.status === 'QUEUED' || x.status === 'IN_PROGRESS');
      if (j === undefined) return response(200, '{}');
      j.status = 'IN_PROGRESS';
      return response(200, JSON.stringify({ execution: { jobId: j.id, status: 'IN_PROGRESS', jobDocument: j.doc, versionNumber: 1, executionNumber: 1 } }));
    }
    const upd = /^\/things\/dev-1\/jobs\/([\w-]+)$/.exec(req.path);
    if (upd !== null && req.method === 'POST') {
      const j = this.jobs.find((x) => x.id === upd[1]);
      if (j === undefined) return response(404, '{}');
      if (j.status !== 'IN_PROGRESS' && j.status !== 'QUEUED') return response(409, '{}');
      const body = JSON.parse(decodeUtf8(req.body!, 0, req.body!.length)) as { status: string; statusDetails: Record<string, string> };
      j.status = body.status;
      j.details = body.statusDetails;
      return response(200, JSON.stringify({ executionState: { status: body.status, versionNumber: 2 } }));
    }
    return response(404);
  }

  addTarget(path: string, bytes: Uint8Array, c: Record<string, unknown>): Record<string, unknown> {
    this.targets.set(path, bytes);
    return { [path]: { length: bytes.length, hashes: { sha256: hexOf(sha256(bytes)) }, custom: c } };
  }

  job(id: string, targets: string[]): Job {
    const j = { id, doc: JSON.stringify({ operation: 'tuf-update', targets }), status: 'QUEUED', details: null };
    this.jobs.push(j);
    return j;
  }

  /** A power cut at the first kv set `pick` chooses: that set never happens, the flash and network are gone. */
  cutAtKv(pick: (key: string, value: string) => boolean): void {
    this.kv.beforeSet = (key, value) => {
      if (!pick(key, value)) return;
      this.kv.beforeSet = null;
      this.dead = true;
      this.flash.cutPowerAfter(0);
      throw new Error('power cut');
    };
  }

  boot(): UpdateService {
    this.service?.stop();
    // Power on: the media keep what was written.
    this.dead = false;
    this.flash.powerOn();
    const config: UpdateConfig = {
      repository: { host: 'repo', port: 443 }, metadataPath: '/tuf/metadata/', targetsPath: '/tuf/targets/', jobsEndpoint: { host: 'repo', port: 443 },
      hardwareModel: 'vdevice', channel: 'prod', checkIntervalMs: 3_600_000, jobsIntervalMs: 1000, requireProvenance: [], watch: [],
      selfTestTimeoutMs: 10_000, rootJson: decodeUtf8(this.repo.files.get('1.root.json')!, 0, this.repo.files.get('1.root.json')!.length), fetchDeadlineMs: 5000,
      ...this.config,
    };
    const fetch = new HttpRepositoryFetch({ http: this.http, timer: this.timer, host: 'repo', deadlineMs: 5000 });
    const jobs = new JobsClient({ http: this.http, timer: this.timer, host: 'repo', region: 'us-east-1', thingName: 'dev-1', credentials: new FakeCredentials(CREDS), clock: this.clock });
    const service = new UpdateService({
      config, thingName: 'dev-1', kv: this.kv, timer: this.timer, random: new FixedRandom(0), clock: this.clock, fetch, jobs,
      firmware: { flash: this.flash, reboot: () => void this.reboots++ },
      compiled: COMPILED,
      onConfig: (o) => void this.applied.push(o),
      event: (kind, detail) => void this.events.push({ event: kind, ...detail }),
      progress: () => this.progress,
      log: () => undefined,
      verifier: macVerifier,
    });
    this.service = service;
    service.start();
    return service;
  }

  /** Runs timers and the promises they start, `steps` times `ms`. */
  async run(ms: number, steps = 1): Promise<void> {
    for (let i = 0; i < steps; i++) {
      this.timer.advance(ms);
      for (let k = 0; k < 50; k++) await Promise.resolve();
    }
  }
}

function publishConfig(w: World, bundle: string, securityVersion = 1, extra: Record<string, unknown> = {}) {
  w.repo.publishRoot();
  w.repo.publishTop(w.addTarget(CONFIG_PATH, utf8Bytes(bundle), custom('config', securityVersion, extra)));
}

const suite: PortableSuite = () => [
  {
    name: 'a config bundle named by a job applies: the agent gets the overlay, the store and counter persist, event with role and signers, job SUCCEEDED',
    async run(t) {
      const w = new World();
      publishConfig(w, '{"sampleIntervalMs":5000}', 3, { release: { request: 'req-1', requester: 'dave' } });
      const job = w.job('job-1', [CONFIG_PATH]);
      w.boot();
      await w.run(0);
      await w.run(10, 5);
      t.deepEqual(w.applied, [{ sampleIntervalMs: 5000 }]);
      t.equal(job.status, 'SUCCEEDED');
      t.equal(job.details?.target, CONFIG_PATH);
      t.deepEqual(w.events.filter((e) => e.event === 'update-applied'), [{ event: 'update-applied', target: CONFIG_PATH, kind: 'config', sha256: hexOf(sha256(utf8Bytes('{"sampleIntervalMs":5000}'))), securityVersion: 3, role: 'targets', signers: 'id-targ', release: 'req-1', job: 'job-1' }]);
      t.deepEqual(new ConfigStore(w.kv).current()?.overlay, { sampleIntervalMs: 5000 });
      const h = w.service!.health();
      t.equal(h.configSecurityVersion, 3);
      t.equal(h.applied, 1);
      t.equal(h.lastOutcome, 'applied');
    },
  },
  {
    name: 'refusals are REJECTED with the code and an update-refused event (attack named): wrong hardware, tampered, below threshold, freeze, rollback, loosening bundle',
    async run(t) {
      const cases: Array<[string, (w: World) => void, string, string | null]> = [
        ['wrong hardware', (w) => publishConfig(w, '{"sampleIntervalMs":5000}', 1, { hardwareModel: 'other-board' }), 'wrong-hardware', null],
        ['tampered target', (w) => {
          publishConfig(w, '{"sampleIntervalMs":5000}');
          w.tamper = true;
        }, 'bad-hash', 'tampered'],
        ['signatures below threshold', (w) => {
          w.repo.targKeys = [key('t1'), key('t2')];
          w.repo.targThreshold = 2;
          w.repo.targSigners = [key('t1')];
          publishConfig(w, '{"sampleIntervalMs":5000}');
        }, 'unsigned', 'bad-signatures'],
        ['expired timestamp (freeze)', (w) => {
          w.repo.publishRoot();
          w.repo.publishTop(w.addTarget(CONFIG_PATH, utf8Bytes('{}'), custom('config', 1)), { tsExpires: '2029-12-31T00:00:00Z' });
        }, 'expired', 'freeze'],
        ['security version below the counter', (w) => {
          publishConfig(w, '{"sampleIntervalMs":5000}', 1);
          w.kv.set('update.counter.config', '4');
        }, 'security-rollback', null],
        ['bundle loosens a compiled limit', (w) => publishConfig(w, '{"maxBoundMs":120000}'), 'loosens-limit', null],
        ['not listed', (w) => {
          w.repo.publishRoot();
          w.repo.publishTop({});
        }, 'not-found', null],
      ];
      for (const [what, setup, code, attack] of cases) {
        const w = new World();
        setup(w);
        const job = w.job('job-r', [CONFIG_PATH]);
        w.boot();
        await w.run(10, 6);
        t.equal(job.status, 'REJECTED', what);
        t.equal(job.details?.code, code, what);
        const refused = w.events.filter((e) => e.event === 'update-refused');
        t.equal(refused.length, 1, what);
        t.equal(refused[0]?.code, code, what);
        t.equal(refused[0]?.attack, attack !== null, what);
        t.equal(refused[0]?.attackName, attack, what);
        t.deepEqual(w.applied, [], `${what}: nothing applied`);
        t.equal(new ConfigStore(w.kv).current(), null, `${what}: nothing stored`);
        t.equal(w.service!.health().refused, 1, what);
      }
    },
  },
  {
    name: 'with untrusted time nothing is applied and the job is not answered (held); once time is trusted it applies',
    async run(t) {
      const w = new World();
      publishConfig(w, '{"sampleIntervalMs":5000}');
      const job = w.job('job-h', [CONFIG_PATH]);
      w.clock.set('UNTRUSTED', NOW, Infinity);
      w.boot();
      await w.run(10, 3);
      t.equal(job.status, 'QUEUED', 'jobs are not even asked for without trusted time (nothing is signed)');
      t.deepEqual(w.applied, []);
      w.clock.set('SYNCED', NOW, 100);
      await w.run(60_000, 6);
      t.equal(job.status, 'SUCCEEDED');
      t.equal(w.applied.length, 1);
    },
  },
  {
    name: 'a malformed job document is REJECTED (malformed-job) and does not wedge the next job',
    async run(t) {
      const w = new World();
      publishConfig(w, '{"sampleIntervalMs":5000}');
      const bad = w.job('job-bad', []);
      bad.doc = '{"operation":"rm -rf"}';
      const good = w.job('job-good', [CONFIG_PATH]);
      w.boot();
      await w.run(1000, 6);
      t.equal(bad.status, 'REJECTED');
      t.equal(bad.details?.code, 'malformed-job');
      t.equal(good.status, 'SUCCEEDED');
    },
  },
  {
    name: 'watch: the periodic check applies a watched path whose trusted hash changed, once',
    async run(t) {
      const w = new World({ watch: [CONFIG_PATH], jobsEndpoint: null, checkIntervalMs: 10_000 });
      publishConfig(w, '{"sampleIntervalMs":5000}');
      w.boot();
      await w.run(10, 3);
      t.deepEqual(w.applied, [{ sampleIntervalMs: 5000 }]);
      await w.run(10_000, 2);
      t.equal(w.applied.length, 1, 'same hash: not applied again');
      w.repo.publishTop(w.addTarget(CONFIG_PATH, utf8Bytes('{"sampleIntervalMs":7000}'), custom('config', 2)), { version: 2 });
      await w.run(10_000, 3);
      t.deepEqual(w.applied, [{ sampleIntervalMs: 5000 }, { sampleIntervalMs: 7000 }]);
    },
  },
  {
    name: 'watch: a target refused at every check sends one update-refused per code (health counts each); another code, or REFUSED_EVENT_REPEAT_MS later, is an event again; jobs always are',
    async run(t) {
      const w = new World({ watch: [CONFIG_PATH], checkIntervalMs: 10_000 });
      publishConfig(w, '{"sampleIntervalMs":5000}', 1, { hardwareModel: 'esp32-s3' });
      w.boot();
      await w.run(10, 3);
      await w.run(10_000, 5);
      const refused = () => w.events.filter((e) => e.event === 'update-refused');
      t.equal(w.service!.health().refused, 6, 'every check refused');
      t.deepEqual(refused().map((e) => e.code), ['wrong-hardware'], 'one event');
      t.equal(w.service!.health().refusedEventsSuppressed, 5);
      w.repo.publishTop(w.addTarget(CONFIG_PATH, utf8Bytes('{"sampleIntervalMs":5000}'), custom('config', 1, { channel: 'beta' })), { version: 2 });
      await w.run(10_000, 3);
      t.deepEqual(refused().map((e) => e.code), ['wrong-hardware', 'wrong-channel'], 'a new code is news');
      const job = w.job('job-same', [CONFIG_PATH]);
      await w.run(1000, 3);
      t.equal(job.status, 'REJECTED');
      t.deepEqual(refused().map((e) => e.job ?? null), [null, null, 'job-same'], 'a job refusal is always an event');
      await w.run(REFUSED_EVENT_REPEAT_MS, 1);
      t.equal(refused().length, 4, 'the same refusal a day later is an event again');
    },
  },
  {
    name: 'firmware: a tampered image (bytes differ from the trusted hash while staging) is REJECTED bad-hash with the attack named tampered; nothing is activated',
    async run(t) {
      const w = new World();
      w.repo.publishRoot();
      w.repo.publishTop(w.addTarget(FW_PATH, utf8Bytes('firmware image 8 '.repeat(200)), custom('firmware', 3)));
      w.tamper = true;
      const job = w.job('job-fw-tampered', [FW_PATH]);
      new FirmwareSlots(w.flash).boot();
      w.boot();
      await w.run(10, 8);
      t.equal(job.status, 'REJECTED');
      t.equal(job.details?.code, 'bad-hash');
      const refused = w.events.filter((e) => e.event === 'update-refused');
      t.deepEqual(refused.map((e) => [e.code, e.attack, e.attackName]), [['bad-hash', true, 'tampered']]);
      t.equal(w.reboots, 0, 'no reboot');
      t.equal(new FirmwareSlots(w.flash).state().trial, false, 'nothing activated');
    },
  },
  {
    name: 'firmware: staged into the inactive slot, activated, reboot; the trial boot self-tests, confirms, raises the counter and reports SUCCEEDED',
    async run(t) {
      const w = new World();
      const image = utf8Bytes('firmware image 2 '.repeat(200));
      w.repo.publishRoot();
      w.repo.publishTop(w.addTarget(FW_PATH, image, custom('firmware', 7, { release: { request: 'req-fw', requester: 'dave' } })));
      const job = w.job('job-fw', [FW_PATH]);
      new FirmwareSlots(w.flash).boot();
      w.boot();
      await w.run(10, 8);
      t.equal(w.reboots, 1, 'rebooted into the new slot');
      t.equal(job.status, 'IN_PROGRESS', 'not reported before the self-test');
      // The bootloader boots the trial slot.
      const state = new FirmwareSlots(w.flash).boot();
      t.equal(state.trial, true);
      t.equal(state.image?.sha256, hexOf(sha256(image)));
      w.progress = { timeTrusted: true, credentials: true, acked: 0 };
      w.boot();
      await w.run(500, 4);
      t.equal(job.status, 'IN_PROGRESS', 'no record acknowledged yet');
      w.progress = { timeTrusted: true, credentials: true, acked: 1 };
      await w.run(500, 6);
      t.equal(job.status, 'SUCCEEDED');
      t.equal(new FirmwareSlots(w.flash).state().trial, false, 'confirmed');
      t.equal(w.service!.health().firmwareSecurityVersion, 7);
      const applied = w.events.filter((e) => e.event === 'update-applied');
      t.deepEqual(applied, [{ event: 'update-applied', target: FW_PATH, kind: 'firmware', sha256: hexOf(sha256(image)), securityVersion: 7, role: 'targets', signers: 'id-targ', release: 'req-fw', job: 'job-fw' }]);
    },
  },
  {
    name: 'firmware: a self-test that does not pass in time reverts and reboots; the boot after reports FAILED and update-reverted; the counter is not raised',
    async run(t) {
      const w = new World();
      const image = utf8Bytes('bad firmware '.repeat(100));
      w.repo.publishRoot();
      w.repo.publishTop(w.addTarget(FW_PATH, image, custom('firmware', 9)));
      const job = w.job('job-bad-fw', [FW_PATH]);
      new FirmwareSlots(w.flash).boot();
      w.boot();
      await w.run(10, 8);
      t.equal(w.reboots, 1);
      new FirmwareSlots(w.flash).boot();
      w.progress = { timeTrusted: true, credentials: false, acked: 0 };
      w.boot();
      await w.run(1000, 12);
      t.equal(w.reboots, 2, 'reverted and rebooted');
      const after = new FirmwareSlots(w.flash).boot();
      t.equal(after.trial, false);
      t.equal(after.revertedFrom?.sha256, hexOf(sha256(image)));
      w.progress = { timeTrusted: true, credentials: true, acked: 1 };
      w.boot();
      await w.run(10, 6);
      t.equal(job.status, 'FAILED');
      t.equal(job.details?.code, 'self-test-failed');
      t.ok(w.events.some((e) => e.event === 'update-reverted' && e.target === FW_PATH));
      t.equal(w.events.filter((e) => e.event === 'update-reverted').length, 1, 'one event for one revert');
      t.equal(w.service!.health().firmwareSecurityVersion, 0);
    },
  },
  {
    name: 'power cut: staged and recorded as pending, cut before activate() lands: the next boot drops the stale record and the job is applied again',
    async run(t) {
      const w = new World();
      const image = utf8Bytes('firmware image 3 '.repeat(200));
      w.repo.publishRoot();
      w.repo.publishTop(w.addTarget(FW_PATH, image, custom('firmware', 5)));
      const job = w.job('job-cut-activate', [FW_PATH]);
      new FirmwareSlots(w.flash).boot();
      // The pending record lands; the power goes right after it (activate() is the next flash write).
      w.kv.beforeSet = (key, value) => {
        if (key !== 'update.pending' || value === '') return;
        w.kv.beforeSet = null;
        w.dead = true;
        w.flash.cutPowerAfter(0);
      };
      w.boot();
      await w.run(10, 8);
      t.equal(w.dead, true, 'the cut happened');
      t.equal(w.reboots, 0, 'never activated');
      const after = new FirmwareSlots((w.flash.powerOn(), w.flash)).boot();
      t.equal(after.trial, false, 'the old image boots');
      t.equal(after.image, null);
      w.boot();
      await w.run(10, 12);
      t.equal(w.reboots, 1, 'staged and activated again');
      t.equal(new FirmwareSlots(w.flash).boot().trial, true);
      w.progress = { timeTrusted: true, credentials: true, acked: 1 };
      w.boot();
      await w.run(500, 6);
      t.equal(job.status, 'SUCCEEDED');
      t.equal(w.service!.health().firmwareSecurityVersion, 5);
    },
  },
  {
    name: 'power cut: confirmed, cut at the firmware counter: the next boot raises the counter, then reports SUCCEEDED and update-applied once',
    async run(t) {
      const w = new World();
      const image = utf8Bytes('firmware image 4 '.repeat(200));
      w.repo.publishRoot();
      w.repo.publishTop(w.addTarget(FW_PATH, image, custom('firmware', 6)));
      const job = w.job('job-cut-counter', [FW_PATH]);
      new FirmwareSlots(w.flash).boot();
      w.boot();
      await w.run(10, 8);
      t.equal(new FirmwareSlots(w.flash).boot().trial, true);
      w.progress = { timeTrusted: true, credentials: true, acked: 1 };
      w.cutAtKv((key) => key === 'update.counter.firmware');
      w.boot();
      await w.run(500, 6);
      t.equal(w.dead, true, 'the cut happened');
      t.equal(job.status, 'IN_PROGRESS');
      const state = new FirmwareSlots((w.flash.powerOn(), w.flash)).boot();
      t.deepEqual([state.trial, state.image?.sha256], [false, hexOf(sha256(image))], 'confirmed before the cut');
      w.boot();
      t.equal(w.service!.health().firmwareSecurityVersion, 6, 'raised at the boot after the cut');
      await w.run(500, 6);
      t.equal(job.status, 'SUCCEEDED');
      t.equal(w.events.filter((e) => e.event === 'update-applied').length, 1);
    },
  },
  {
    name: 'power cut: a config bundle stored, cut at the config counter: the next start raises the counter to the stored bundle\'s security version',
    async run(t) {
      const w = new World();
      publishConfig(w, '{"sampleIntervalMs":5000}', 4);
      w.job('job-cut-config', [CONFIG_PATH]);
      w.cutAtKv((key) => key === 'update.counter.config');
      w.boot();
      await w.run(0);
      await w.run(10, 5);
      t.equal(w.dead, true, 'the cut happened');
      t.equal(new ConfigStore(w.kv).current()?.securityVersion, 4, 'the bundle was stored before the cut');
      w.boot();
      t.equal(w.service!.health().configSecurityVersion, 4);
    },
  },
];

export default suite;
