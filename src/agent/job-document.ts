// The job document of a signed-update job (our format, inside AWS IoT Jobs'
// `jobDocument` string): which targets to apply. Its own module so that the
// config parser can validate watch paths without the Jobs client and signer.
import { utf8Bytes } from '../shared/utf8.js';

/** Longest job document the device reads (the job's `jobDocument` string, UTF-8 bytes). */
export const MAX_JOB_DOCUMENT_BYTES = 4096;
/** Most targets one job may name. */
export const MAX_JOB_TARGETS = 4;
/** Longest target path a job may name. */
export const MAX_JOB_TARGET_PATH_CHARS = 256;

/** Our job document: `{"operation": "tuf-update", "targets": ["<target path>", ...]}`. */
export interface JobDocument {
  operation: 'tuf-update';
  targets: readonly string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A target path a job may name: relative, printable ASCII, no empty, `.` or `..` segment. */
export function isJobTargetPath(v: unknown): v is string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_JOB_TARGET_PATH_CHARS) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x5c) return false;
  }
  return v.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/** Parses a job document; returns it or the reason it is refused. */
export function parseJobDocument(text: string): JobDocument | string {
  let bytes: Uint8Array;
  try {
    bytes = utf8Bytes(text);
  } catch {
    return 'document is not valid text';
  }
  if (bytes.length > MAX_JOB_DOCUMENT_BYTES) return `document over ${MAX_JOB_DOCUMENT_BYTES} bytes`;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'document is not JSON';
  }
  if (!isRecord(doc)) return 'document is not an object';
  if (doc.operation !== 'tuf-update') return 'operation is not tuf-update';
  for (const k of Object.keys(doc)) if (k !== 'operation' && k !== 'targets') return `unknown field ${k.slice(0, 32)}`;
  const targets = doc.targets;
  if (!Array.isArray(targets) || targets.length === 0 || targets.length > MAX_JOB_TARGETS) return `targets must be a list of 1 to ${MAX_JOB_TARGETS} paths`;
  for (const t of targets) if (!isJobTargetPath(t)) return 'a target is not a valid target path';
  if (new Set(targets).size !== targets.length) return 'a target is listed twice';
  return { operation: 'tuf-update', targets: targets.slice() as string[] };
}
