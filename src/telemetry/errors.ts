// Typed errors of the telemetry core. Every error has a stable string `code`
// that callers and tests match on; messages never carry payloads or secrets.
import { CodedError } from '../shared/errors.js';

export class TelemetryError extends CodedError {
  override name = 'TelemetryError';
}

/** Bad queue configuration, oversize record, full queue, exhausted sequence space. */
export class QueueError extends TelemetryError {
  override name = 'QueueError';
}

/** Simulated power cut from the fault-injecting flash (tests and simulator only). */
export class PowerCut extends Error {
  override name = 'PowerCut';
  readonly code = 'power-cut';
}

/** Malformed MQTT input or an encoder argument out of range. */
export class MqttError extends TelemetryError {
  override name = 'MqttError';
}

/** Bad uploader configuration. */
export class ConfigError extends TelemetryError {
  override name = 'ConfigError';
}
