// Programmatic API of the local dev cloud (see devcloud.ts and tools/devcloud/README.md).
export { startDevCloud, DevCloud, DEFAULT_REGION, DEFAULT_ROLE_ALIAS, DEFAULT_PUBLISH_SERVICES, DEFAULT_MQTT_SERVICES } from './devcloud.js';
export type { DevCloudOptions, DevCloudEndpoints } from './devcloud.js';
export type { CounterSnapshot, LoggedMessage } from './observability.js';
export type { RejectReason } from './aws-answers.js';
export { DevCloudError } from './errors.js';
export type { JobExecution, JobExecutionState, JobExecutionStatus } from './jobs.js';
export type { TufRequestRecord } from './tuf-server.js';
export type { TufFaultState } from './faults.js';
