// Device-side updates after TUF: when to look (a periodic check of the
// `watch` paths and AWS IoT Jobs), what the device's policy lets through, how
// a verified target is applied (config bundle: at once; firmware: A/B slot,
// reboot, self-test, confirm or revert), and what is reported (security
// events, job status, health).
//
// One bounded sequence: at most one check or job runs at a time, on the
// TimerPort; after a failure the next attempt waits a capped backoff with
// jitter. Nothing here blocks the uploader: downloads are asynchronous,
// chunks are fixed (one staging buffer, allocated at construction) and a
// config bundle is at most MAX_CONFIG_BUNDLE_BYTES.
//
// Trust: the trusted root is the kv key ROOT_KV_KEY (the provisioning writes
// it) or, when that key is absent, `update.rootJson` from the config (the
// virtual device). Every later root comes through TUF's rotation and is
// persisted in the kv under TUF_KV_PREFIX + role, one atomic set per file.
// With untrusted time nothing is applied (reason 'untrusted-time': held, not
// a refusal; the job stays IN_PROGRESS and is tried again).
import type { FirmwarePort, KeyValuePort, RandomPort, Sha256, Sha256Factory, TimerPort } from '../ports.js';
import { Backoff } from '../shared/backoff.js';
import { decodeUtf8, utf8Bytes } from '../shared/utf8.js';
import { nobleSha256 } from '../sigv4/sha256-noble.js';
import type { TimeReading } from '../time/authority.js';
import { parseConfigBundle, ConfigStore, MAX_CONFIG_BUNDLE_BYTES, type CompiledLimits, type ConfigOverlay } from '../update/config-bundle.js';
import { TufError } from '../update/errors.js';
import { NobleHash } from '../update/hash-noble.js';
import type { HttpRepositoryFetch } from '../update/http-fetch.js';
import { AntiRollbackCounters, checkTarget, type DevicePolicy, type TargetBinding, type TargetKind } from '../update/policy.js';
import type { HashPort, MetadataStore, SignatureVerifier } from '../update/ports.js';
import { FirmwareSlots } from '../update/slots.js';
import { stageTarget, STAGING_CHUNK_BYTES } from '../update/staging.js';
import { UpdateError } from '../update/update-error.js';
import { Updater, type TargetInfo } from '../update/updater.js';
import { JobsError, type JobExecution, type JobsClient, type JobStatus } from './jobs-client.js';

/** kv key of the trusted root the provisioning writes (TUF root.json text). */
export const ROOT_KV_KEY = 'update.tuf.root';
/** kv prefix of the trusted metadata (`update.tuf.<role>`). */
export const TUF_KV_PREFIX = 'update.tuf.';
/** kv key of a firmware update waiting for its next boot (job id, target, security version, signers). */
export const PENDING_FIRMWARE_KV_KEY = 'update.pending';
/** Longest delegated role name stored in the kv (longer ones are not persisted: fetched again). */
export const MAX_STORED_ROLE_CHARS = 64;
/** Job reports kept for retry while the Jobs endpoint cannot be reached (the oldest is dropped past it, counted). */
export const MAX_PENDING_JOB_REPORTS = 4;
/** First retry after a failed check (capped backoff with jitter up to the check interval). */
export const UPDATE_BACKOFF_BASE_MS = 5_000;
/** Shortest wait before a retry (full jitter may draw 0: no busy loop). */
export const UPDATE_MIN_RETRY_MS = 1_000;
/**
 * A periodic check refused for the same watched target and code as last time
 * sends no new update-refused event for this long (health still counts every
 * refusal, and `refusedEventsSuppressed` the events not sent): a repository
 * that stays bad must not fill the security stream with one event per check.
 * Job refusals are always sent (each job is its own question).
 */
export const REFUSED_EVENT_REPEAT_MS = 24 * 3_600_000;
/** (watched target, code) pairs remembered for that (the oldest forgotten first; watch has at most MAX_WATCH_PATHS). */
export const MAX_REFUSED_EVENT_MEMORY = 8;
/** How often the self-test looks at its conditions. */
export const SELF_TEST_POLL_MS = 500;

/** TUF codes that say the repository is attacking (or broken like an attack), with the attack's name. */
export const TUF_ATTACKS: Readonly<Record<string, string>> = Object.freeze({
  rollback: 'rollback',
  expired: 'freeze',
  'version-mismatch': 'mix-and-match',
  unsigned: 'bad-signatures',
  'bad-hash': 'tampered',
  'over-limit': 'endless-data',
});
/** TUF codes that are the device's or the network's trouble: the job FAILED (could not apply), not REJECTED. */
const TUF_FAILURES = ['fetch', 'storage', 'state'];
/** UpdateError codes that are the device's own trouble (FAILED), not a verdict on the target (REJECTED). */
const UPDATE_FAILURES = ['fetch', 'storage', 'self-test-failed'];

export interface UpdateConfig {
  repository: { host: string; port: number };
  metadataPath: string;
  targetsPath: string;
  /** Where the Jobs data plane is; null: no jobs (periodic checks only). */
  jobsEndpoint: { host: string; port: number } | null;
  hardwareModel: string;
  channel: string;
  checkIntervalMs: number;
  jobsIntervalMs: number;
  requireProvenance: readonly string[];
  watch: readonly string[];
  selfTestTimeoutMs: number;
  /** The first trusted root when the kv has none (virtual device); null: provisioning writes ROOT_KV_KEY. */
  rootJson: string | null;
  fetchDeadlineMs: number;
}

export interface UpdateHealth {
  state: 'off' | 'idle' | 'checking' | 'applying' | 'self-test' | 'rebooting';
  checks: number;
  applied: number;
  refused: number;
  lastOutcome: string | null;
  lastCode: string | null;
  slot: number | null;
  trial: boolean;
  firmwareSecurityVersion: number | null;
  configSecurityVersion: number | null;
  jobReportsDropped: number;
  /** update-refused events not sent: the same watched target and code within REFUSED_EVENT_REPEAT_MS. */
  refusedEventsSuppressed: number;
}

/** What the self-test needs to see in this boot. */
export interface SelfTestProgress {
  timeTrusted: boolean;
  credentials: boolean;
  acked: number;
}

export interface UpdateServiceOptions {
  config: UpdateConfig;
  thingName: string;
  kv: KeyValuePort;
  timer: TimerPort;
  random: RandomPort;
  clock: { now(): TimeReading; monoNow(): number };
  fetch: HttpRepositoryFetch;
  jobs: JobsClient | null;
  firmware: FirmwarePort | null;
  /** The limits compiled into this firmware (a bundle may only tighten them). */
  compiled: CompiledLimits;
  /** A verified bundle was stored: the agent applies it now. */
  onConfig(overlay: ConfigOverlay): void;
  /** A security event (the agent's security stream). */
  event(kind: string, detail: Record<string, string | number | boolean | null>): void;
  progress(): SelfTestProgress;
  log(line: string): void;
  sha256?: Sha256Factory;
  /** The platform's signature verifier (a port: boards verify natively, the virtual device with @noble/curves). */
  verifier: SignatureVerifier;
  hash?: HashPort;
}

/** Trusted metadata in the kv: one key per role, each set atomic (old file or new). */
class KvMetadataStore implements MetadataStore {
  constructor(
    private readonly kv: KeyValuePort,
    private readonly rootJson: string | null,
  ) {}
  private key(role: string): string | null {
    return role.length <= MAX_STORED_ROLE_CHARS ? TUF_KV_PREFIX + role : null;
  }
  load(role: string): Uint8Array | null {
    const key = this.key(role);
    if (key === null) return null;
    let text = this.kv.get(key);
    if ((text === undefined || text === '') && role === 'root') text = this.rootJson ?? undefined;
    return typeof text === 'string' && text !== '' ? utf8Bytes(text) : null;
  }
  save(role: string, bytes: Uint8Array): void {
    const key = this.key(role);
    if (key === null) return;
    const text = decodeUtf8(bytes, 0, bytes.length, 'refuse');
    if (text === null) throw new Error('not UTF-8');
    this.kv.set(key, text);
  }
  remove(role: string): void {
    const key = this.key(role);
    if (key !== null && this.kv.get(key) !== undefined) this.kv.set(key, '');
  }
}

interface PendingFirmware {
  job: string | null;
  target: string;
  sha256: string;
  securityVersion: number;
  role: string;
  signers: string;
  /** The release tool's request ID (custom.release.request), to match the audit log; absent in older records. */
  release?: string | null;
}

type Outcome =
  | { kind: 'applied'; target: string; binding: TargetBinding | null; info: TargetInfo | null }
  | { kind: 'unchanged'; target: string }
  | { kind: 'refused'; target: string; code: string; attack: string | null; reason: string }
  | { kind: 'failed'; target: string; code: string; reason: string }
  | { kind: 'held'; target: string; code: string; reason: string }
  | { kind: 'rebooting'; target: string };

interface JobReport {
  jobId: string;
  status: JobStatus;
  details: Record<string, string>;
}

const safeMessage = (e: unknown): string => (e instanceof Error ? e.message : 'error').slice(0, 200);

export class UpdateService {
  readonly #o: UpdateServiceOptions;
  readonly #updater: Updater;
  readonly #counters: AntiRollbackCounters;
  readonly #store: ConfigStore;
  readonly #slots: FirmwareSlots | null;
  readonly #sha: Sha256 | null;
  readonly #buffer: Uint8Array | null;
  readonly #policy: DevicePolicy;
  readonly #backoff: Backoff;
  readonly #reports: JobReport[] = [];
  /** Last update-refused event sent per watched target (bounded by MAX_REFUSED_EVENT_MEMORY). */
  readonly #refusedSent: Array<{ target: string; code: string; atMono: number }> = [];
  #timer: unknown = null;
  #running = false;
  #busy = false;
  #lastCheckMono = -Infinity;
  #selfTestStart = -1;
  readonly #health: UpdateHealth;

  constructor(options: UpdateServiceOptions) {
    this.#o = options;
    const c = options.config;
    const store = new KvMetadataStore(options.kv, c.rootJson);
    this.#updater = new Updater({
      metadataUrl: c.metadataPath,
      targetUrl: c.targetsPath,
      verifier: options.verifier,
      hash: options.hash ?? new NobleHash(),
      fetch: options.fetch,
      store,
      clock: options.clock,
    });
    this.#counters = new AntiRollbackCounters(options.kv);
    this.#store = new ConfigStore(options.kv);
    this.#slots = options.firmware ? new FirmwareSlots(options.firmware.flash) : null;
    // One digest and one chunk buffer for every firmware staging, allocated once.
    this.#sha = this.#slots ? (options.sha256 ?? nobleSha256)() : null;
    this.#buffer = this.#slots ? new Uint8Array(STAGING_CHUNK_BYTES) : null;
    this.#policy = {
      hardwareModel: c.hardwareModel,
      channel: c.channel,
      thingName: options.thingName,
      acceptKinds: this.#slots ? ['firmware', 'config'] : ['config'],
      maxBytes: { firmware: this.#slots ? this.#slots.slotBytes : 0, config: MAX_CONFIG_BUNDLE_BYTES },
      requireProvenance: c.requireProvenance,
    };
    this.#backoff = new Backoff(options.random, UPDATE_BACKOFF_BASE_MS, Math.max(UPDATE_BACKOFF_BASE_MS, c.checkIntervalMs));
    this.#health = { state: 'idle', checks: 0, applied: 0, refused: 0, lastOutcome: null, lastCode: null, slot: null, trial: false, firmwareSecurityVersion: null, configSecurityVersion: null, jobReportsDropped: 0, refusedEventsSuppressed: 0 };
  }

  /** The applied config overlay (what the agent merges into its config at construction), or null. */
  static storedOverlay(kv: KeyValuePort): ConfigOverlay | null {
    try {
      return new ConfigStore(kv).current()?.overlay ?? null;
    } catch {
      return null;
    }
  }

  health(): UpdateHealth {
    const h = { ...this.#health };
    try {
      h.firmwareSecurityVersion = this.#counters.get('firmware');
      h.configSecurityVersion = this.#counters.get('config');
    } catch {
      // A corrupt counter: shown as unknown; applying refuses with 'storage'.
    }
    if (this.#slots !== null) {
      try {
        const s = this.#slots.state();
        h.slot = s.slot;
        h.trial = s.trial;
      } catch {
        h.slot = null;
      }
    }
    return h;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#raiseConfigCounter();
    this.#bootChecks();
    if (this.#health.state === 'self-test') this.#selfTestStart = this.#o.clock.monoNow();
    this.#schedule(this.#health.state === 'self-test' ? SELF_TEST_POLL_MS : 0);
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== null) this.#o.timer.clear(this.#timer);
    this.#timer = null;
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    if (this.#timer !== null) this.#o.timer.clear(this.#timer);
    this.#timer = this.#o.timer.set(() => {
      this.#timer = null;
      this.#run().then(
        (delay) => this.#schedule(delay),
        (e) => {
          // A bug in a step must not end the service: logged, retried after a backoff.
          this.#o.log(`update: step failed: ${safeMessage(e)}`);
          this.#schedule(Math.max(UPDATE_MIN_RETRY_MS, this.#backoff.next()));
        },
      );
    }, delayMs);
  }

  /** One step of the sequence; resolves with the delay to the next one. */
  async #run(): Promise<number> {
    if (this.#busy) return SELF_TEST_POLL_MS;
    this.#busy = true;
    try {
      if (this.#health.state === 'self-test') return this.#selfTestStep();
      if (this.#health.state === 'rebooting') return this.#o.config.jobsIntervalMs;
      let ok = await this.#sendReports();
      if (ok && this.#o.jobs !== null) ok = await this.#pollJob();
      if (this.#stateNow() === 'rebooting') return this.#o.config.jobsIntervalMs;
      const now = this.#o.clock.monoNow();
      if (now - this.#lastCheckMono >= this.#o.config.checkIntervalMs && this.#o.config.watch.length > 0) {
        this.#lastCheckMono = now;
        ok = (await this.#check()) && ok;
      }
      if (!ok) return Math.max(UPDATE_MIN_RETRY_MS, this.#backoff.next());
      this.#backoff.reset();
      return this.#o.jobs !== null ? Math.min(this.#o.config.jobsIntervalMs, this.#o.config.checkIntervalMs) : this.#o.config.checkIntervalMs;
    } finally {
      this.#busy = false;
      if (this.#health.state === 'checking' || this.#health.state === 'applying') this.#health.state = 'idle';
    }
  }

  /** The state as of now (an await may have changed it). */
  #stateNow(): UpdateHealth['state'] {
    return this.#health.state;
  }

  // ---- boot: what the previous boot left ----

  #pending(): PendingFirmware | null {
    let text: string | undefined;
    try {
      text = this.#o.kv.get(PENDING_FIRMWARE_KV_KEY);
    } catch {
      return null;
    }
    if (typeof text !== 'string' || text === '') return null;
    try {
      const p = JSON.parse(text) as PendingFirmware;
      return typeof p.target === 'string' && typeof p.sha256 === 'string' && Number.isSafeInteger(p.securityVersion) ? p : null;
    } catch {
      return null;
    }
  }

  #clearPending(): void {
    try {
      this.#o.kv.set(PENDING_FIRMWARE_KV_KEY, '');
    } catch {
      this.#o.log('update: could not clear the pending firmware record');
    }
  }

  #bootChecks(): void {
    if (this.#slots === null) return;
    let state;
    try {
      state = this.#slots.state();
    } catch (e) {
      this.#o.log(`update: slots unreadable: ${safeMessage(e)}`);
      return;
    }
    const pending = this.#pending();
    if (state.trial) {
      this.#health.state = 'self-test';
      this.#o.log(`update: booted ${pending?.target ?? 'an image'} on trial: self-test within ${this.#o.config.selfTestTimeoutMs} ms`);
      return;
    }
    if (pending === null) return;
    if (state.revertedFrom !== null && state.revertedFrom.sha256 === pending.sha256) {
      this.#o.event('update-reverted', { target: pending.target, job: pending.job });
      this.#record('failed', 'self-test-failed');
      if (pending.job !== null) this.#queueReport({ jobId: pending.job, status: 'FAILED', details: { code: 'self-test-failed', target: pending.target, reason: 'the new firmware did not pass its self-test: reverted' } });
      this.#clearPending();
    } else if (state.image !== null && state.image.sha256 === pending.sha256) {
      // Confirmed in an earlier boot that ended (a power cut) before it raised the counter or reported.
      try {
        this.#counters.raise('firmware', pending.securityVersion);
      } catch (e) {
        // Kept pending: the next boot tries again (the image runs either way).
        this.#o.log(`update: raising the firmware counter failed: ${safeMessage(e)}`);
        return;
      }
      this.#applied(pending);
    } else {
      // Staged but never activated (a power cut before or during activate()): the old image runs
      // and nothing was applied; the job is still pending at the cloud and is tried again.
      this.#o.log(`update: ${pending.target} was staged but not activated: dropped, the job is tried again`);
      this.#clearPending();
    }
  }

  /** A config bundle stored by a boot that ended before its counter was raised (power cut): raised now. */
  #raiseConfigCounter(): void {
    try {
      const current = this.#store.current();
      if (current !== null && this.#counters.get('config') < current.securityVersion) this.#counters.raise('config', current.securityVersion);
    } catch (e) {
      this.#o.log(`update: raising the config counter failed: ${safeMessage(e)}`);
    }
  }

  #selfTestStep(): number {
    const p = this.#o.progress();
    const pending = this.#pending();
    if (p.timeTrusted && p.credentials && p.acked > 0) {
      try {
        this.#slots!.confirm();
        if (pending !== null) this.#counters.raise('firmware', pending.securityVersion);
      } catch (e) {
        this.#o.log(`update: confirm failed: ${safeMessage(e)}`);
        return SELF_TEST_POLL_MS;
      }
      this.#health.state = 'idle';
      this.#o.log('update: self-test passed: confirmed');
      if (pending !== null) this.#applied(pending);
      return 0;
    }
    if (this.#o.clock.monoNow() - this.#selfTestStart < this.#o.config.selfTestTimeoutMs) return SELF_TEST_POLL_MS;
    this.#o.log(`update: self-test failed (time ${p.timeTrusted}, credentials ${p.credentials}, acked ${p.acked}): reverting`);
    try {
      this.#slots!.revert();
    } catch (e) {
      this.#o.log(`update: revert failed: ${safeMessage(e)}`);
    }
    this.#health.state = 'rebooting';
    // The boot after the revert sees revertedFrom (and the bootloader reverts an unconfirmed trial
    // even if revert() failed): it sends the one update-reverted event and reports the job FAILED.
    this.#reboot();
    return this.#o.config.jobsIntervalMs;
  }

  #applied(p: PendingFirmware): void {
    this.#o.event('update-applied', { target: p.target, kind: 'firmware', sha256: p.sha256, securityVersion: p.securityVersion, role: p.role, signers: p.signers, release: p.release ?? null, job: p.job });
    this.#record('applied', null);
    if (p.job !== null) this.#queueReport({ jobId: p.job, status: 'SUCCEEDED', details: { code: 'applied', target: p.target, reason: `firmware confirmed, security version ${p.securityVersion}` } });
    this.#clearPending();
  }

  #reboot(): void {
    try {
      this.#o.firmware!.reboot();
    } catch (e) {
      this.#o.log(`update: reboot failed: ${safeMessage(e)}`);
    }
  }

  // ---- jobs ----

  #queueReport(r: JobReport): void {
    if (this.#reports.length >= MAX_PENDING_JOB_REPORTS) {
      this.#reports.shift();
      this.#health.jobReportsDropped++;
    }
    this.#reports.push(r);
  }

  /** Sends queued job reports; false when one could not be sent (retry later). */
  async #sendReports(): Promise<boolean> {
    const jobs = this.#o.jobs;
    if (jobs === null) {
      this.#reports.length = 0;
      return true;
    }
    while (this.#reports.length > 0) {
      const r = this.#reports[0]!;
      try {
        await jobs.update(r.jobId, r.status, r.details);
      } catch (e) {
        // 409 (already terminal) or 404 (gone): nothing more to say about it.
        const status = e instanceof JobsError ? e.status : 0;
        if (!(status === 409 || status === 404 || (e instanceof JobsError && e.code === 'bad-request'))) {
          this.#o.log(`update: job ${r.jobId} report failed: ${safeMessage(e)}`);
          return false;
        }
      }
      this.#reports.shift();
    }
    return true;
  }

  async #pollJob(): Promise<boolean> {
    let ex: JobExecution | null;
    try {
      ex = await this.#o.jobs!.startNext();
    } catch (e) {
      if (!(e instanceof JobsError && e.code === 'not-ready')) this.#o.log(`update: jobs: ${safeMessage(e)}`);
      return false;
    }
    if (ex === null) return true;
    const pending = this.#pending();
    if (pending !== null && pending.job === ex.jobId) return true; // its firmware is on its way through reboot and self-test
    if (ex.document === null) {
      this.#o.event('update-refused', { target: null, code: 'malformed-job', attack: false, job: ex.jobId });
      this.#record('refused', 'malformed-job');
      this.#queueReport({ jobId: ex.jobId, status: 'REJECTED', details: { code: 'malformed-job', target: '-', reason: ex.problem ?? 'bad document' } });
      return this.#sendReports();
    }
    const outcome = await this.#applyAll(ex.document.targets, ex.jobId);
    if (outcome.kind === 'held' || outcome.kind === 'rebooting') return outcome.kind === 'rebooting';
    const status: JobStatus = outcome.kind === 'refused' ? 'REJECTED' : outcome.kind === 'failed' ? 'FAILED' : 'SUCCEEDED';
    const code = outcome.kind === 'refused' || outcome.kind === 'failed' ? outcome.code : outcome.kind;
    const reason = outcome.kind === 'refused' || outcome.kind === 'failed' ? outcome.reason : outcome.kind === 'unchanged' ? 'already applied' : 'applied';
    this.#queueReport({ jobId: ex.jobId, status, details: { code, target: outcome.target, reason } });
    return (await this.#sendReports()) && outcome.kind !== 'failed';
  }

  // ---- checks and applying ----

  async #check(): Promise<boolean> {
    const outcome = await this.#applyAll(this.#o.config.watch, null);
    return outcome.kind !== 'failed' && outcome.kind !== 'held';
  }

  /** Refreshes once, then applies each path (config bundles first, firmware last: it reboots); stops at the first that does not apply. */
  async #applyAll(paths: readonly string[], job: string | null): Promise<Outcome> {
    this.#health.checks++;
    this.#health.state = 'checking';
    const first = paths[0] ?? '-';
    const t = this.#o.clock.now();
    if (t.state !== 'SYNCED' && t.state !== 'FREE_RUNNING') {
      this.#record('held', 'untrusted-time');
      return { kind: 'held', target: first, code: 'untrusted-time', reason: 'time is not trusted: nothing is applied' };
    }
    const overLimitBefore = this.#o.fetch.stats.overLimit;
    try {
      await this.#updater.refresh();
    } catch (e) {
      return this.#tufOutcome(e, first, job, overLimitBefore, true);
    }
    const infos: Array<{ path: string; info: TargetInfo; binding: TargetBinding }> = [];
    for (const path of paths) {
      let info: TargetInfo | null;
      try {
        info = await this.#updater.getTargetInfo(path);
      } catch (e) {
        return this.#tufOutcome(e, path, job, overLimitBefore, false);
      }
      if (info === null) return this.#refused(path, 'not-found', null, 'no trusted metadata lists this target', job);
      let binding: TargetBinding;
      try {
        binding = checkTarget(this.#policy, info, this.#counters);
      } catch (e) {
        return this.#updateOutcome(e, path, job);
      }
      infos.push({ path, info, binding });
    }
    infos.sort((a, b) => (a.binding.kind === b.binding.kind ? 0 : a.binding.kind === 'firmware' ? 1 : -1));
    let last: Outcome = { kind: 'unchanged', target: first };
    for (const x of infos) {
      this.#health.state = 'applying';
      last = x.binding.kind === 'config' ? await this.#applyConfig(x.info, x.binding, job, overLimitBefore) : await this.#applyFirmware(x.info, x.binding, job);
      if (last.kind !== 'applied' && last.kind !== 'unchanged') return last;
    }
    return last;
  }

  async #applyConfig(info: TargetInfo, binding: TargetBinding, job: string | null, overLimitBefore: number): Promise<Outcome> {
    const sha = info.hashes.sha256 ?? '';
    const current = this.#store.current();
    if (current !== null && current.sha256 === sha && current.target === info.path) {
      this.#raiseConfigCounter();
      return { kind: 'unchanged', target: info.path };
    }
    let bytes: Uint8Array;
    try {
      bytes = await this.#updater.downloadTarget(info);
    } catch (e) {
      return this.#tufOutcome(e, info.path, job, overLimitBefore, false);
    }
    try {
      const overlay = parseConfigBundle(bytes, this.#o.compiled);
      this.#store.apply({ overlay, target: info.path, sha256: sha, securityVersion: binding.securityVersion });
      this.#counters.raise('config', binding.securityVersion);
      // sha256 and the release request tie what was applied to the release tool's audit log entry.
      this.#o.event('update-applied', { target: info.path, kind: 'config', sha256: sha, securityVersion: binding.securityVersion, role: info.role, signers: info.signers.join(','), release: binding.release?.request ?? null, job });
      this.#record('applied', null);
      try {
        this.#o.onConfig(overlay);
      } catch (e) {
        this.#o.log(`update: applying the config failed: ${safeMessage(e)}`);
      }
      return { kind: 'applied', target: info.path, binding, info };
    } catch (e) {
      return this.#updateOutcome(e, info.path, job);
    }
  }

  async #applyFirmware(info: TargetInfo, binding: TargetBinding, job: string | null): Promise<Outcome> {
    const slots = this.#slots!;
    const sha = info.hashes.sha256;
    if (typeof sha !== 'string') return this.#refused(info.path, 'unsupported-hash', null, 'no sha256 listed', job);
    let state;
    try {
      state = slots.state();
    } catch (e) {
      return this.#failed(info.path, 'storage', safeMessage(e), job);
    }
    if (state.trial) return this.#held(info.path, 'busy', 'a trial firmware is not confirmed yet');
    if (state.image !== null && state.image.sha256 === sha) return { kind: 'unchanged', target: info.path };
    try {
      await stageTarget({ source: this.#o.fetch, url: this.#updater.targetUrl(info), length: info.length, sha256Hex: sha, region: slots.inactive(), sha256: this.#sha!, buffer: this.#buffer! });
      this.#o.kv.set(PENDING_FIRMWARE_KV_KEY, JSON.stringify({ job, target: info.path, sha256: sha, securityVersion: binding.securityVersion, role: info.role, signers: info.signers.join(','), release: binding.release?.request ?? null } satisfies PendingFirmware));
      slots.activate({ length: info.length, sha256: sha });
    } catch (e) {
      if (e instanceof UpdateError) return this.#updateOutcome(e, info.path, job);
      if (e instanceof TufError) return this.#tufOutcome(e, info.path, job, this.#o.fetch.stats.overLimit, false);
      return this.#failed(info.path, 'storage', safeMessage(e), job);
    }
    this.#o.event('update-staged', { target: info.path, kind: 'firmware', sha256: sha, securityVersion: binding.securityVersion, role: info.role, signers: info.signers.join(','), release: binding.release?.request ?? null, job });
    this.#o.log(`update: ${info.path} staged and activated: rebooting into it on trial`);
    this.#health.state = 'rebooting';
    this.#reboot();
    return { kind: 'rebooting', target: info.path };
  }

  #tufOutcome(e: unknown, target: string, job: string | null, overLimitBefore: number, refresh: boolean): Outcome {
    let code = e instanceof TufError ? e.code : 'state';
    // The fetcher refused a body over its bound (endless data); TUF only saw a failed fetch.
    if (code === 'fetch' && this.#o.fetch.stats.overLimit > overLimitBefore) code = 'over-limit';
    const reason = safeMessage(e);
    if (TUF_FAILURES.includes(code)) {
      if (refresh) this.#o.event('update-check-failed', { code });
      return this.#failed(target, code, reason, job, !refresh);
    }
    return this.#refused(target, code, TUF_ATTACKS[code] ?? null, reason, job);
  }

  #updateOutcome(e: unknown, target: string, job: string | null): Outcome {
    if (!(e instanceof UpdateError)) return this.#failed(target, 'storage', safeMessage(e), job);
    if (e.code === 'busy') return this.#held(target, 'busy', safeMessage(e));
    if (UPDATE_FAILURES.includes(e.code)) return this.#failed(target, e.code, safeMessage(e), job);
    // Staged bytes whose digest or length differ from the trusted metadata are tampering, as in TUF's own check.
    return this.#refused(target, e.code, e.code === 'bad-hash' ? TUF_ATTACKS['bad-hash']! : null, safeMessage(e), job);
  }

  #refused(target: string, code: string, attack: string | null, reason: string, job: string | null): Outcome {
    if (job !== null || this.#firstRefusal(target, code)) this.#o.event('update-refused', { target, code, attack: attack !== null, attackName: attack, job });
    else this.#health.refusedEventsSuppressed++;
    this.#o.log(`update: refused ${target}: ${reason}`);
    this.#record('refused', code);
    return { kind: 'refused', target, code, attack, reason };
  }

  /** True when a watched target's refusal should be an event: another code than last time, or the last one long ago. */
  #firstRefusal(target: string, code: string): boolean {
    const now = this.#o.clock.monoNow();
    const i = this.#refusedSent.findIndex((r) => r.target === target);
    const last = i >= 0 ? this.#refusedSent[i]! : null;
    if (last !== null && last.code === code && now - last.atMono < REFUSED_EVENT_REPEAT_MS) return false;
    if (i >= 0) this.#refusedSent.splice(i, 1);
    if (this.#refusedSent.length >= MAX_REFUSED_EVENT_MEMORY) this.#refusedSent.shift();
    this.#refusedSent.push({ target, code, atMono: now });
    return true;
  }

  #failed(target: string, code: string, reason: string, job: string | null, event = true): Outcome {
    if (event) this.#o.event('update-check-failed', { code, target, job });
    this.#o.log(`update: ${target} not applied: ${reason}`);
    this.#record('failed', code);
    return { kind: 'failed', target, code, reason };
  }

  #held(target: string, code: string, reason: string): Outcome {
    this.#record('held', code);
    return { kind: 'held', target, code, reason };
  }

  #record(outcome: string, code: string | null): void {
    // Applied: a later refusal of the same target is news again.
    if (outcome === 'applied') this.#refusedSent.length = 0;
    this.#health.lastOutcome = outcome;
    this.#health.lastCode = code;
    if (outcome === 'applied') this.#health.applied++;
    if (outcome === 'refused') this.#health.refused++;
  }
}
