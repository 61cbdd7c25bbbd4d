// AWS IoT Jobs data plane over HTTPS (service `iot-jobs-data`), SigV4-signed
// with the temporary credentials and the secure clock's time, as the
// telemetry publish is:
//   PUT  /things/{thingName}/jobs/$next   StartNextPendingJobExecution
//   POST /things/{thingName}/jobs/{jobId} UpdateJobExecution
// `$next` goes on the wire as is (as the AWS SDKs send it); the canonical URI
// encodes it once more like every other path byte (`/jobs/%24next`).
//
// Every byte of an answer is data: a body that is not JSON, an execution
// without a valid jobId, a document over its bound are refused (rejected
// promise, counted in `stats`), never thrown out of the port's callback. A
// pending execution whose document is not ours or is malformed comes back
// with `document: null` and the reason, so the caller can report it REJECTED
// instead of leaving it pending forever.
import type { HttpPort, HttpResponse, Sha256Factory, TimerPort } from '../ports.js';
import type { CredentialSource } from '../shared/contracts.js';
import { CodedError } from '../shared/errors.js';
import { DEFAULT_HTTP_DEADLINE_MS, MAX_HTTP_DEADLINE_MS, requestWithDeadline } from '../shared/http-deadline.js';
import { decodeUtf8, utf8Bytes } from '../shared/utf8.js';
import { readHttpAnswer } from '../shared/http-answer.js';
import { IOT_SIGNER_LIMITS } from '../sigv4/iot-request-signer.js';
import { Signer } from '../sigv4/signer.js';
import { DEFAULT_MAX_BOUND_MS, holdReason, signingTime } from '../telemetry/hold.js';
import type { TimeAuthority } from '../time/authority.js';
import { DEFAULT_CREDENTIAL_MARGIN_MS } from '../shared/contracts.js';
import { parseJobDocument, type JobDocument } from './job-document.js';

export { isJobTargetPath, MAX_JOB_DOCUMENT_BYTES, MAX_JOB_TARGET_PATH_CHARS, MAX_JOB_TARGETS, parseJobDocument, type JobDocument } from './job-document.js';

/** Signing name of the IoT Jobs data plane. */
export const IOT_JOBS_SERVICE = 'iot-jobs-data';
/** Longest answer body read (an execution with a full document and its status details fits). */
export const MAX_JOBS_ANSWER_BYTES = 16 * 1024;
/** AWS IoT: a jobId is 1..64 of [a-zA-Z0-9_-]. */
export const MAX_JOB_ID_CHARS = 64;
/** AWS IoT: at most 10 status details, keys up to 128 characters, values up to 1024. */
export const MAX_STATUS_DETAILS = 10;
export const MAX_STATUS_DETAIL_KEY_CHARS = 128;
export const MAX_STATUS_DETAIL_VALUE_CHARS = 1024;

export type JobStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'REJECTED';

export interface JobExecution {
  jobId: string;
  /** Null when the document is not a valid tuf-update document (`problem` says why). */
  document: JobDocument | null;
  problem: string | null;
  versionNumber: number;
}

export type JobsErrorCode =
  /** Time not trusted or no usable credentials: nothing was signed or sent. */
  | 'not-ready'
  | 'sign-failed'
  | 'network'
  | 'deadline'
  /** An HTTP status other than 2xx (409 on a version conflict or a terminal execution, 404 unknown job). */
  | 'status'
  /** The answer is not what the API returns. */
  | 'malformed'
  /** The caller's own arguments (jobId, status details). */
  | 'bad-request';

export class JobsError extends CodedError<JobsErrorCode> {
  override name = 'JobsError';
  /** The HTTP status, for 'status'. */
  status = 0;
}

export interface JobsClientOptions {
  http: HttpPort;
  timer: TimerPort;
  /** Jobs data endpoint host (`<prefix>.jobs.iot.<region>.amazonaws.com`; the dev cloud: its gateway). */
  host: string;
  /** Default 443. */
  port?: number;
  region: string;
  thingName: string;
  credentials: CredentialSource;
  clock: TimeAuthority;
  sha256?: Sha256Factory;
  /** Clock bound above which nothing is signed (default the uploader's). */
  maxBoundMs?: number;
  /** Credentials must outlive the clock's latest by this much (default the uploader's). */
  credentialMarginMs?: number;
  deadlineMs?: number;
}

export interface JobsClientStats {
  requests: number;
  /** Answers refused as malformed (body, JSON, fields, document bound). */
  malformed: number;
  /** Executions whose document was refused (reported back as such by the caller). */
  badDocuments: number;
  /** Non-2xx statuses. */
  statuses: number;
  network: number;
  deadlines: number;
  /** Calls refused before sending (time untrusted, credentials missing). */
  notReady: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isJobId(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= MAX_JOB_ID_CHARS && /^[\w-]+$/.test(v);
}

/** Status details as AWS accepts them: printable values, bounded; throws JobsError 'bad-request' on a bad key. */
function cleanDetails(details: Readonly<Record<string, string>>): Record<string, string> {
  const keys = Object.keys(details);
  if (keys.length > MAX_STATUS_DETAILS) throw new JobsError('bad-request', `more than ${MAX_STATUS_DETAILS} status details`);
  const out: Record<string, string> = {};
  for (const k of keys) {
    if (!(k.length <= MAX_STATUS_DETAIL_KEY_CHARS && /^[\w:-]+$/.test(k))) throw new JobsError('bad-request', 'a status detail key has a character AWS refuses');
    // Values: no control characters (AWS: [^\p{C}]+), at least one character.
    let v = String(details[k]).replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').slice(0, MAX_STATUS_DETAIL_VALUE_CHARS);
    if (v.length === 0) v = '-';
    out[k] = v;
  }
  return out;
}

export class JobsClient {
  readonly stats: JobsClientStats = { requests: 0, malformed: 0, badDocuments: 0, statuses: 0, network: 0, deadlines: 0, notReady: 0 };
  readonly #o: JobsClientOptions;
  readonly #signer: Signer;
  readonly #hostHeader: string;
  readonly #deadlineMs: number;
  readonly #thingPath: string;
  #loaded: unknown = null;

  constructor(options: JobsClientOptions) {
    this.#o = options;
    const port = options.port ?? 443;
    this.#hostHeader = port === 443 ? options.host : `${options.host}:${port}`;
    this.#deadlineMs = options.deadlineMs ?? DEFAULT_HTTP_DEADLINE_MS;
    if (!(this.#deadlineMs > 0 && this.#deadlineMs <= MAX_HTTP_DEADLINE_MS)) throw new RangeError(`deadlineMs must be in (0, ${MAX_HTTP_DEADLINE_MS}]`);
    // A thing name is [a-zA-Z0-9:_-]: only `:` is not unreserved; encoded on the wire like the SDKs do.
    this.#thingPath = `/things/${options.thingName.replace(/:/g, '%3A')}/jobs/`;
    this.#signer = new Signer({ region: options.region, service: IOT_JOBS_SERVICE, sha256: options.sha256, limits: IOT_SIGNER_LIMITS, chunkedUploads: false });
  }

  /** StartNextPendingJobExecution: the execution now IN_PROGRESS, or null when none is pending. */
  async startNext(): Promise<JobExecution | null> {
    const answer = await this.#send('PUT', `${this.#thingPath}$next`, '{}');
    if (!isRecord(answer)) return this.#malformed('answer is not an object');
    const ex = answer.execution;
    if (ex === undefined || ex === null) return null;
    if (!isRecord(ex)) return this.#malformed('execution is not an object');
    if (!isJobId(ex.jobId)) return this.#malformed('execution has no valid jobId');
    const versionNumber = ex.versionNumber;
    if (!(typeof versionNumber === 'number' && Number.isSafeInteger(versionNumber) && versionNumber >= 0)) return this.#malformed('execution has no valid versionNumber');
    const parsed = typeof ex.jobDocument === 'string' ? parseJobDocument(ex.jobDocument) : 'jobDocument is not a string';
    if (typeof parsed === 'string') {
      this.stats.badDocuments++;
      return { jobId: ex.jobId, document: null, problem: parsed, versionNumber };
    }
    return { jobId: ex.jobId, document: parsed, problem: null, versionNumber };
  }

  /** UpdateJobExecution. Rejects JobsError 'status' (err.status 409: conflict or already terminal; 404: unknown). */
  async update(jobId: string, status: JobStatus, statusDetails: Readonly<Record<string, string>>): Promise<void> {
    if (!isJobId(jobId)) throw new JobsError('bad-request', 'not a valid jobId');
    const body = JSON.stringify({ status, statusDetails: cleanDetails(statusDetails) });
    const answer = await this.#send('POST', `${this.#thingPath}${jobId}`, body);
    if (!isRecord(answer)) this.#malformed('answer is not an object');
  }

  #malformed(why: string): never {
    this.stats.malformed++;
    throw new JobsError('malformed', why);
  }

  /** Signs and sends; resolves with the parsed JSON of a 2xx answer. */
  #send(method: 'PUT' | 'POST', path: string, bodyText: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const o = this.#o;
      const reading = o.clock.now();
      const creds = o.credentials.current();
      const hold = holdReason(reading, creds, { maxBoundMs: o.maxBoundMs ?? DEFAULT_MAX_BOUND_MS, credentialMarginMs: o.credentialMarginMs ?? DEFAULT_CREDENTIAL_MARGIN_MS });
      if (hold !== null || creds === null) {
        this.stats.notReady++;
        reject(new JobsError('not-ready', hold ?? 'credentials-missing'));
        return;
      }
      const body = utf8Bytes(bodyText);
      const timeMs = signingTime(reading);
      const headers: Array<[string, string]> = [['host', this.#hostHeader], ['content-type', 'application/json']];
      try {
        if (this.#loaded !== creds) {
          this.#signer.setCredentials({ accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken });
          this.#loaded = creds;
        }
        for (const h of this.#signer.sign({ method, path, headers, body, timeMs }).headers()) headers.push(h);
      } catch (e) {
        const code = (e as { code?: unknown } | null)?.code;
        reject(new JobsError('sign-failed', typeof code === 'string' ? code : 'error'));
        return;
      }
      this.stats.requests++;
      let sent = 0;
      try {
        sent = o.clock.monoNow();
      } catch {
        // No round-trip time: the Date vote is skipped below.
        sent = -1;
      }
      const req = { method, host: o.host, port: o.port ?? 443, path, headers, body };
      requestWithDeadline(o.http, o.timer, req, this.#deadlineMs, (error, response) => {
        if (error !== null || response === null) {
          if ((error as { code?: unknown } | null)?.code === 'deadline') {
            this.stats.deadlines++;
            reject(new JobsError('deadline', `no answer within ${this.#deadlineMs} ms`));
          } else {
            this.stats.network++;
            reject(new JobsError('network', 'request failed'));
          }
          return;
        }
        try {
          resolve(this.#answer(response, timeMs, sent));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  #answer(response: HttpResponse, signedAtMs: number, sent: number): unknown {
    const answer = readHttpAnswer(response);
    if (answer === null) return this.#malformed('answer is not a status and a body');
    const { status, headers, body } = answer;
    const clock = this.#o.clock;
    if (Array.isArray(headers) && sent >= 0) {
      try {
        clock.addDateVote(`https:${this.#o.host}`, headers as HttpResponse['headers'], sent);
      } catch {
        // A bad Date costs the vote, not the answer.
      }
    }
    if (status < 200 || status > 299) {
      this.stats.statuses++;
      const err = new JobsError('status', `HTTP ${status}`);
      err.status = status;
      throw err;
    }
    try {
      // The cloud accepted a request signed at signedAtMs: authenticated time evidence.
      clock.acceptedSignature(signedAtMs);
    } catch {
      // The clock's own failure: the answer stands.
    }
    if (body.length > MAX_JOBS_ANSWER_BYTES) this.#malformed(`answer over ${MAX_JOBS_ANSWER_BYTES} bytes`);
    const text = decodeUtf8(body, 0, body.length, 'refuse');
    if (text === null) this.#malformed('answer is not UTF-8');
    try {
      return JSON.parse(text);
    } catch {
      return this.#malformed('answer is not JSON');
    }
  }
}
