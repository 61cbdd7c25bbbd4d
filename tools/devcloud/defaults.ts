// Defaults shared by the programmatic API and the CLI (kept apart from
// devcloud.ts so `devcloud provision` does not load aws-crt or the broker).

export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_ROLE_ALIAS = 'devcloud-role-alias';
/** HTTPS publish signing names: the service model's `iotdata`, and `iotdevicegateway` used by an AWS sample. */
export const DEFAULT_PUBLISH_SERVICES = ['iotdata', 'iotdevicegateway'] as const;
export const DEFAULT_MQTT_SERVICES = ['iotdevicegateway'] as const;
/** IoT Jobs data plane signing name (service model iot-jobs-data 2017-09-29). */
export const DEFAULT_JOBS_SERVICES = ['iot-jobs-data'] as const;
