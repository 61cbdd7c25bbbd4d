// `devcloud` command line (bin/devcloud.js):
//   devcloud [start] [options]          run until SIGINT/SIGTERM; prints the endpoints as one JSON line
//   devcloud provision --thing NAME     write a device certificate, key and provisioning JSON
//   devcloud help
import { parseArgs } from 'node:util';
import { DEFAULT_CREDENTIAL_LIFETIME_SECONDS } from './credentials-provider.js';
import { DEFAULT_REGION, DEFAULT_ROLE_ALIAS, DEFAULT_PUBLISH_SERVICES } from './defaults.js';
import type { DevCloud } from './devcloud.js';
import { DevCloudError } from './errors.js';
import { DEFAULT_STATE_DIR, provisionDevice } from './state-dir.js';
import type { KeyType } from './pki.js';

/** Fixed default ports for standalone use, so provisioning files stay valid across runs. */
export const CLI_DEFAULT_PORTS = { gateway: 8443, credentials: 8444, broker: 18830, admin: 8445 } as const;

const USAGE = `usage:
  devcloud [start] [--host 127.0.0.1] [--hostname NAME]... [--state-dir ${DEFAULT_STATE_DIR}]
                   [--gateway-port ${CLI_DEFAULT_PORTS.gateway}] [--credentials-port ${CLI_DEFAULT_PORTS.credentials}]
                   [--broker-port ${CLI_DEFAULT_PORTS.broker}] [--admin-port ${CLI_DEFAULT_PORTS.admin}]
                   [--broker aedes|mosquitto] [--region ${DEFAULT_REGION}] [--role-alias ${DEFAULT_ROLE_ALIAS}]
                   [--publish-service ${DEFAULT_PUBLISH_SERVICES.join(',')}] [--credential-lifetime ${DEFAULT_CREDENTIAL_LIFETIME_SECONDS}]
                   [--key-type rsa|ec]   (CA and server key; device keys are always RSA 2048)
  devcloud provision --thing NAME [--endpoint HOST] [--state-dir DIR] [--region R] [--role-alias A]
                   [--gateway-port P] [--credentials-port P] [--key-type rsa|ec]
Ports may be 0 (ephemeral). The admin API always binds 127.0.0.1.`;

const OPTIONS = {
  host: { type: 'string' },
  hostname: { type: 'string', multiple: true },
  'state-dir': { type: 'string' },
  'gateway-port': { type: 'string' },
  'credentials-port': { type: 'string' },
  'broker-port': { type: 'string' },
  'admin-port': { type: 'string' },
  broker: { type: 'string' },
  region: { type: 'string' },
  'role-alias': { type: 'string' },
  'publish-service': { type: 'string' },
  'credential-lifetime': { type: 'string' },
  'key-type': { type: 'string' },
  thing: { type: 'string' },
  endpoint: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function int(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,6}$/.test(text)) throw new DevCloudError('BAD_OPTION', `--${name} must be a non-negative integer`);
  return Number(text);
}

function keyType(text: string | undefined): KeyType {
  if (text === undefined) return 'rsa';
  if (text !== 'rsa' && text !== 'ec') throw new DevCloudError('BAD_OPTION', '--key-type must be rsa or ec');
  return text;
}

/** Resolves once SIGINT or SIGTERM arrives. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    process.stderr.write(`devcloud: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  const command = positionals[0] ?? 'start';
  if (v.help || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (positionals.length > 1) {
    process.stderr.write(`devcloud: unexpected argument ${JSON.stringify(positionals[1])}\n${USAGE}\n`);
    return 2;
  }
  try {
    if (command === 'provision') {
      if (v.thing === undefined) throw new DevCloudError('BAD_OPTION', 'provision needs --thing NAME');
      const device = await provisionDevice(
        v['state-dir'] ?? DEFAULT_STATE_DIR,
        {
          thingName: v.thing,
          region: v.region ?? DEFAULT_REGION,
          roleAlias: v['role-alias'] ?? DEFAULT_ROLE_ALIAS,
          endpoint: v.endpoint ?? '127.0.0.1',
          gatewayPort: int('gateway-port', v['gateway-port'], CLI_DEFAULT_PORTS.gateway),
          credentialsPort: int('credentials-port', v['credentials-port'], CLI_DEFAULT_PORTS.credentials),
          publishService: (v['publish-service'] ?? DEFAULT_PUBLISH_SERVICES[0]).split(',')[0]!,
        },
        keyType(v['key-type']),
      );
      process.stdout.write(JSON.stringify({ thingName: device.thingName, provisioningFile: device.provisioningFile, certFile: device.certFile, keyFile: device.keyFile }) + '\n');
      return 0;
    }
    if (command !== 'start') throw new DevCloudError('BAD_OPTION', `unknown command ${JSON.stringify(command)}`);
    const broker = v.broker ?? 'aedes';
    if (broker !== 'aedes' && broker !== 'mosquitto') throw new DevCloudError('BAD_OPTION', '--broker must be aedes or mosquitto');
    // Loaded only to start: aws-crt (native) and the brokers are not needed to provision or print usage.
    const { startDevCloud } = await import('./devcloud.js');
    const cloud: DevCloud = await startDevCloud({
      host: v.host ?? '127.0.0.1',
      hostnames: v.hostname ?? [],
      stateDir: v['state-dir'] ?? DEFAULT_STATE_DIR,
      gatewayPort: int('gateway-port', v['gateway-port'], CLI_DEFAULT_PORTS.gateway),
      credentialsPort: int('credentials-port', v['credentials-port'], CLI_DEFAULT_PORTS.credentials),
      brokerPort: int('broker-port', v['broker-port'], CLI_DEFAULT_PORTS.broker),
      adminPort: int('admin-port', v['admin-port'], CLI_DEFAULT_PORTS.admin),
      broker,
      region: v.region ?? DEFAULT_REGION,
      roleAlias: v['role-alias'] ?? DEFAULT_ROLE_ALIAS,
      publishServices: (v['publish-service'] ?? DEFAULT_PUBLISH_SERVICES.join(',')).split(','),
      credentialLifetimeSeconds: int('credential-lifetime', v['credential-lifetime'], DEFAULT_CREDENTIAL_LIFETIME_SECONDS),
      keyType: keyType(v['key-type']),
    });
    process.stdout.write(JSON.stringify({ devcloud: 'running', ...cloud.endpoints() }) + '\n');
    const sig = await untilSignal();
    process.stderr.write(`devcloud: ${sig}, stopping\n`);
    await cloud.stop();
    return 0;
  } catch (e) {
    if (e instanceof DevCloudError) {
      process.stderr.write(`devcloud: ${e.code}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
