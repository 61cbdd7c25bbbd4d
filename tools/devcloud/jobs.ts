// AWS IoT Jobs, data plane (service `iot-jobs-data`), in memory: the job
// executions the admin API creates and the device drives over HTTPS.
//   PUT  /things/{thingName}/jobs/$next    StartNextPendingJobExecution
//   POST /things/{thingName}/jobs/{jobId}  UpdateJobExecution
//   GET  /things/{thingName}/jobs/{jobId}  DescribeJobExecution ($next: the next pending, not started)
//   GET  /things/{thingName}/jobs          GetPendingJobExecutions
// Field names, limits and error types follow the AWS API reference (the
// botocore service model iot-jobs-data 2017-09-29). The gateway verifies the
// SigV4 signature before anything here runs.
import { DevCloudError } from './errors.js';

export const JOB_EXECUTION_STATUSES = ['QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED', 'REMOVED', 'CANCELED'] as const;
export type JobExecutionStatus = (typeof JOB_EXECUTION_STATUSES)[number];
/** Statuses a job execution never leaves. */
export const TERMINAL_STATUSES: ReadonlySet<JobExecutionStatus> = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'REMOVED', 'CANCELED']);
/** Statuses a device may set with UpdateJobExecution (the others belong to the service). */
export const DEVICE_SETTABLE_STATUSES: ReadonlySet<JobExecutionStatus> = new Set(['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED']);

/** AWS limits (service model): job document, ids, status detail keys and values. */
export const MAX_JOB_DOCUMENT_CHARS = 32_768;
export const MAX_STATUS_DETAIL_VALUE_CHARS = 1024;
export const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
export const JOB_ID = /^[a-zA-Z0-9_-]{1,64}$/;
export const DETAILS_KEY = /^[a-zA-Z0-9:_-]{1,128}$/;
/** Ours (AWS documents none): status detail entries per execution, executions kept, request body bytes. */
export const MAX_STATUS_DETAILS = 32;
export const MAX_JOB_EXECUTIONS = 10_000;
export const MAX_JOBS_REQUEST_BYTES = 64 * 1024;

export interface JobExecution {
  jobId: string;
  thingName: string;
  status: JobExecutionStatus;
  statusDetails: Record<string, string>;
  /** Epoch seconds, as the AWS JSON protocol sends timestamps. */
  queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  versionNumber: number;
  executionNumber: number;
  jobDocument: string;
}

export interface JobExecutionState {
  status: JobExecutionStatus;
  statusDetails: Record<string, string>;
  versionNumber: number;
}

/** A refusal shaped for the wire: status, x-amzn-ErrorType, message, and for 409s the current state. */
export class JobsError extends Error {
  override name = 'JobsError';
  constructor(
    readonly status: 400 | 404 | 409 | 410,
    readonly errorType: 'InvalidRequestException' | 'ResourceNotFoundException' | 'InvalidStateTransitionException' | 'TerminalStateException',
    message: string,
    readonly executionState?: JobExecutionState,
  ) {
    super(message);
  }
}

function invalid(message: string): JobsError {
  return new JobsError(400, 'InvalidRequestException', message);
}

function stateOf(e: JobExecution): JobExecutionState {
  return { status: e.status, statusDetails: { ...e.statusDetails }, versionNumber: e.versionNumber };
}

function copy(e: JobExecution, withDocument: boolean): Partial<JobExecution> {
  const out: Partial<JobExecution> = { ...e, statusDetails: { ...e.statusDetails } };
  if (!withDocument) delete out.jobDocument;
  return out;
}

/** statusDetails from a request body: a map of 1..128-char keys ([a-zA-Z0-9:_-]) to 1..1024-char strings without control characters. */
export function parseStatusDetails(v: unknown): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid('statusDetails must be a map of strings to strings.');
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > MAX_STATUS_DETAILS) throw invalid(`statusDetails has more than ${MAX_STATUS_DETAILS} entries.`);
  const out: Record<string, string> = {};
  for (const [k, value] of entries) {
    if (!DETAILS_KEY.test(k)) throw invalid(`statusDetails key ${JSON.stringify(k.slice(0, 140))} must be 1-128 characters of [a-zA-Z0-9:_-].`);
    if (typeof value !== 'string' || value.length < 1 || value.length > MAX_STATUS_DETAIL_VALUE_CHARS || /\p{C}/u.test(value)) {
      throw invalid(`statusDetails value of '${k}' must be a string of 1-${MAX_STATUS_DETAIL_VALUE_CHARS} characters without control characters.`);
    }
    out[k] = value;
  }
  return out;
}

function optionalInteger(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalid(`${key} must be an integer.`);
  return v;
}

function optionalBoolean(body: Record<string, unknown>, key: string): boolean {
  const v = body[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw invalid(`${key} must be a boolean.`);
  return v;
}

export class JobStore {
  /** Insertion order = queue order. Key: thing NUL jobId. */
  private readonly executions = new Map<string, JobExecution>();
  private nextJob = 1;

  constructor(private readonly nowMs: () => number) {}

  private seconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  /** Admin: queue a job for one thing. `document` is the job document text (AWS stores a string). */
  create(thingName: string, document: string, jobId?: string): JobExecution {
    if (!THING_NAME.test(thingName)) throw new DevCloudError('BAD_OPTION', 'thing name must be 1-128 characters of [a-zA-Z0-9:_-]');
    const id = jobId ?? `job-${this.nextJob++}`;
    if (!JOB_ID.test(id)) throw new DevCloudError('BAD_OPTION', 'jobId must be 1-64 characters of [a-zA-Z0-9_-]');
    if (typeof document !== 'string' || document.length > MAX_JOB_DOCUMENT_CHARS) throw new DevCloudError('BAD_OPTION', `job document must be a string of at most ${MAX_JOB_DOCUMENT_CHARS} characters`);
    const key = `${thingName}\u0000${id}`;
    if (this.executions.has(key)) throw new DevCloudError('BAD_OPTION', `job ${id} already exists for ${thingName}`);
    if (this.executions.size >= MAX_JOB_EXECUTIONS) throw new DevCloudError('BAD_OPTION', `at most ${MAX_JOB_EXECUTIONS} job executions`);
    const now = this.seconds();
    const e: JobExecution = { jobId: id, thingName, status: 'QUEUED', statusDetails: {}, queuedAt: now, lastUpdatedAt: now, versionNumber: 1, executionNumber: 1, jobDocument: document };
    this.executions.set(key, e);
    return copy(e, true) as JobExecution;
  }

  /** Admin: one execution (with its document), or undefined. */
  get(thingName: string, jobId: string): JobExecution | undefined {
    const e = this.executions.get(`${thingName}\u0000${jobId}`);
    return e === undefined ? undefined : (copy(e, true) as JobExecution);
  }

  /** Admin: every execution (of one thing), queue order. */
  list(thingName?: string): JobExecution[] {
    const out: JobExecution[] = [];
    for (const e of this.executions.values()) if (thingName === undefined || e.thingName === thingName) out.push(copy(e, true) as JobExecution);
    return out;
  }

  clear(): void {
    this.executions.clear();
  }

  private find(thingName: string, jobId: string): JobExecution {
    const e = this.executions.get(`${thingName}\u0000${jobId}`);
    if (e === undefined) throw new JobsError(404, 'ResourceNotFoundException', `Job Execution for job ${jobId} and thing ${thingName} not found.`);
    return e;
  }

  /** IN_PROGRESS before QUEUED, each in queue order (AWS: the next pending execution). */
  private nextPending(thingName: string): JobExecution | undefined {
    let queued: JobExecution | undefined;
    for (const e of this.executions.values()) {
      if (e.thingName !== thingName) continue;
      if (e.status === 'IN_PROGRESS') return e;
      if (e.status === 'QUEUED' && queued === undefined) queued = e;
    }
    return queued;
  }

  startNext(thingName: string, body: Record<string, unknown>): { execution?: Partial<JobExecution> } {
    const details = parseStatusDetails(body.statusDetails);
    optionalInteger(body, 'stepTimeoutInMinutes');
    const e = this.nextPending(thingName);
    if (e === undefined) return {};
    const now = this.seconds();
    if (e.status === 'QUEUED') {
      e.status = 'IN_PROGRESS';
      e.startedAt = now;
      e.versionNumber++;
      e.lastUpdatedAt = now;
    }
    if (details !== undefined) {
      e.statusDetails = details;
      e.versionNumber++;
      e.lastUpdatedAt = now;
    }
    return { execution: copy(e, true) };
  }

  update(thingName: string, jobId: string, body: Record<string, unknown>): { executionState?: JobExecutionState; jobDocument?: string } {
    const status = body.status;
    if (typeof status !== 'string' || !(JOB_EXECUTION_STATUSES as readonly string[]).includes(status)) {
      throw invalid(`status must be one of ${JOB_EXECUTION_STATUSES.join(', ')}.`);
    }
    const details = parseStatusDetails(body.statusDetails);
    const expectedVersion = optionalInteger(body, 'expectedVersion');
    const executionNumber = optionalInteger(body, 'executionNumber');
    optionalInteger(body, 'stepTimeoutInMinutes');
    const includeState = optionalBoolean(body, 'includeJobExecutionState');
    const includeDocument = optionalBoolean(body, 'includeJobDocument');
    const e = this.find(thingName, jobId);
    if (executionNumber !== undefined && executionNumber !== e.executionNumber) {
      throw new JobsError(404, 'ResourceNotFoundException', `Job Execution ${executionNumber} for job ${jobId} and thing ${thingName} not found.`);
    }
    if (expectedVersion !== undefined && expectedVersion !== e.versionNumber) {
      throw new JobsError(409, 'InvalidStateTransitionException', `Version mismatch: expected version ${expectedVersion}, current version ${e.versionNumber}.`, stateOf(e));
    }
    if (TERMINAL_STATUSES.has(e.status)) {
      throw new JobsError(409, 'InvalidStateTransitionException', `Job execution is in terminal state ${e.status} and cannot be updated to ${status}.`, stateOf(e));
    }
    if (!DEVICE_SETTABLE_STATUSES.has(status as JobExecutionStatus)) {
      throw new JobsError(409, 'InvalidStateTransitionException', `Job execution cannot be updated from ${e.status} to ${status}.`, stateOf(e));
    }
    const now = this.seconds();
    if (e.startedAt === undefined) e.startedAt = now;
    e.status = status as JobExecutionStatus;
    if (details !== undefined) e.statusDetails = details;
    e.versionNumber++;
    e.lastUpdatedAt = now;
    const out: { executionState?: JobExecutionState; jobDocument?: string } = {};
    if (includeState) out.executionState = stateOf(e);
    if (includeDocument) out.jobDocument = e.jobDocument;
    return out;
  }

  describe(thingName: string, jobId: string, query: URLSearchParams): { execution: Partial<JobExecution> } {
    const includeText = query.get('includeJobDocument');
    if (includeText !== null && includeText !== 'true' && includeText !== 'false') throw invalid('includeJobDocument must be true or false.');
    const numberText = query.get('executionNumber');
    if (numberText !== null && !/^\d{1,15}$/.test(numberText)) throw invalid('executionNumber must be an integer.');
    const e = jobId === '$next' ? this.nextPending(thingName) : this.find(thingName, jobId);
    if (e === undefined) throw new JobsError(404, 'ResourceNotFoundException', `No pending job execution for thing ${thingName}.`);
    if (numberText !== null && Number(numberText) !== e.executionNumber) {
      throw new JobsError(404, 'ResourceNotFoundException', `Job Execution ${numberText} for job ${jobId} and thing ${thingName} not found.`);
    }
    return { execution: copy(e, includeText === 'true') };
  }

  pending(thingName: string): { inProgressJobs: object[]; queuedJobs: object[] } {
    const summary = (e: JobExecution) => ({
      jobId: e.jobId,
      queuedAt: e.queuedAt,
      ...(e.startedAt === undefined ? {} : { startedAt: e.startedAt }),
      lastUpdatedAt: e.lastUpdatedAt,
      versionNumber: e.versionNumber,
      executionNumber: e.executionNumber,
    });
    const inProgressJobs: object[] = [];
    const queuedJobs: object[] = [];
    for (const e of this.executions.values()) {
      if (e.thingName !== thingName) continue;
      if (e.status === 'IN_PROGRESS') inProgressJobs.push(summary(e));
      else if (e.status === 'QUEUED') queuedJobs.push(summary(e));
    }
    return { inProgressJobs, queuedJobs };
  }
}

export type JobsRoute =
  | { op: 'StartNextPendingJobExecution'; thingName: string }
  | { op: 'UpdateJobExecution'; thingName: string; jobId: string }
  | { op: 'DescribeJobExecution'; thingName: string; jobId: string }
  | { op: 'GetPendingJobExecutions'; thingName: string };

/** The operation a /things/... request names, or a JobsError (404 for an unknown path, 405-like 400 for a wrong method). */
export function jobsRoute(method: string, path: string): JobsRoute | 'not-found' | 'method-not-allowed' {
  const m = /^\/things\/([^/]+)\/jobs(?:\/([^/]+))?$/.exec(path);
  if (m === null) return 'not-found';
  let thingName: string;
  let jobId: string | undefined;
  try {
    thingName = decodeURIComponent(m[1]!);
    jobId = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
  } catch {
    return 'not-found';
  }
  if (jobId === undefined) return method === 'GET' ? { op: 'GetPendingJobExecutions', thingName } : 'method-not-allowed';
  if (jobId === '$next') {
    if (method === 'PUT') return { op: 'StartNextPendingJobExecution', thingName };
    if (method === 'GET') return { op: 'DescribeJobExecution', thingName, jobId };
    return 'method-not-allowed';
  }
  if (method === 'POST') return { op: 'UpdateJobExecution', thingName, jobId };
  if (method === 'GET') return { op: 'DescribeJobExecution', thingName, jobId };
  return 'method-not-allowed';
}

/** Validates the ids in the path (after the signature was verified: a bad signature learns nothing). */
export function checkRouteIds(r: JobsRoute): void {
  if (!THING_NAME.test(r.thingName)) throw invalid('thingName must be 1-128 characters of [a-zA-Z0-9:_-].');
  if ('jobId' in r && r.jobId !== '$next' && !JOB_ID.test(r.jobId)) throw invalid('jobId must be 1-64 characters of [a-zA-Z0-9_-].');
}

/** A JSON object request body ('' = {}), or InvalidRequestException. */
export function parseJobsBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('Request body is not valid JSON.');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid('Request body must be a JSON object.');
  return v as Record<string, unknown>;
}
