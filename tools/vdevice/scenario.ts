// A complete local world for one virtual device: dev cloud, three SNTP
// servers, a provisioned device running the firmware bundle on XS. Used by
// the end-to-end tests and the agent bench.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { VirtualDevice, type BootRecord, type PersistentWrite } from './host.js';
import { FileFlash } from '../../src/platform/node/flash-file.js';
import { FirmwareSlots, type BootState } from '../../src/update/slots.js';
import { deliveries } from './deliveries.js';
import { SntpServer } from '../timeserver/sntp-server.js';
import { startDevCloud, type DevCloud } from '../devcloud/devcloud.js';

export interface DeviceHealth {
  timeState?: string;
  timeBoundMs?: number;
  credentialsLeftMs?: number | null;
  queueDepth?: number;
  sent?: number;
  acked?: number;
  retried?: number;
  deadLettered?: number;
  dropped?: number;
  skewEvents?: number;
  credentialRefreshes?: number;
  heldBack?: Record<string, number>;
  lastHeldBack?: string | null;
}

export interface DeviceStatus {
  generated?: number;
  health?: DeviceHealth;
}

export interface ScenarioOptions {
  transport: 'https' | 'mqtt';
  thingName?: string;
  /** Periodic sampling interval; default: none (the test appends records itself). */
  sampleIntervalMs?: number;
  /** Merged into the device config; a function gets the dev cloud's endpoints (e.g. its TUF root file). */
  extraConfig?: Record<string, unknown> | ((e: ReturnType<DevCloud['endpoints']>) => Record<string, unknown>);
  /** Firmware flash (A/B slots) geometry; default the host's DEFAULT_FIRMWARE_BLOCK_SIZE / _COUNT. */
  firmwareBlockSize?: number;
  firmwareBlockCount?: number;
  /** Run without a firmware flash file: the factory bundle always boots and the firmware has no FirmwarePort. */
  noFirmwareFlash?: boolean;
}

/** Longest wait for the device to come back from a reset. */
export const REBOOT_TIMEOUT_MS = 30_000;

export const POLL_MS = 100;

export class Scenario {
  status: DeviceStatus = {};
  readonly logs: string[] = [];
  private constructor(
    readonly cloud: DevCloud,
    readonly device: VirtualDevice,
    private readonly ntp: SntpServer[],
    private readonly dir: string,
    readonly thingName: string,
    /** The firmware flash file (A/B slots), or null with noFirmwareFlash. */
    readonly firmwareFile: string | null,
    readonly firmwareGeometry: { blockSize: number; blockCount: number } | null,
    /** The factory bundle. */
    readonly bundle: string,
    readonly kvFile: string,
  ) {}

  static async start(options: ScenarioOptions): Promise<Scenario> {
    const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
    const cloud = await startDevCloud({ stateDir: join(dir, 'cloud') });
    const ntp = [new SntpServer(), new SntpServer(), new SntpServer()];
    const servers: string[] = [];
    for (const s of ntp) {
      const a = await s.start();
      servers.push(`${a.host}:${a.port}`);
    }
    const thingName = options.thingName ?? 'scenario-device';
    const provisioned = await cloud.provision(thingName);
    const e = cloud.endpoints();
    const bundle = join(resolve('.'), 'build', 'xs', 'vdevice.js');
    let scenario: Scenario | null = null;
    const pendingLogs: string[] = [];
    const firmwareFile = options.noFirmwareFlash ? null : join(dir, 'firmware.bin');
    const kvFile = join(dir, 'kv.json');
    const device = new VirtualDevice({
      bundle,
      ...(firmwareFile === null
        ? {}
        : { firmwareFile, firmwareBlockSize: options.firmwareBlockSize, firmwareBlockCount: options.firmwareBlockCount }),
      config: {
        thingName,
        region: e.region,
        roleAlias: e.roleAlias,
        dataEndpoint: { host: e.host, port: e.gatewayPort },
        credentialsEndpoint: { host: e.host, port: e.credentialsPort },
        timeServers: servers,
        transport: options.transport,
        sampleIntervalMs: options.sampleIntervalMs ?? 86_400_000,
        healthIntervalMs: 0,
        buildTimeMs: Math.floor(statSync(bundle).mtimeMs),
        ...(typeof options.extraConfig === 'function' ? options.extraConfig(e) : options.extraConfig),
      },
      tls: { ca: readFileSync(e.caFile, 'utf8'), cert: provisioned.certPem, key: provisioned.keyPem },
      flashFile: join(dir, 'flash.bin'),
      flashBlockSize: 4096,
      flashBlockCount: 64,
      kvFile,
      onLog: (l) => (scenario ? scenario.logs : pendingLogs).push(l),
      onStatus: (s) => {
        if (scenario) scenario.status = s as DeviceStatus;
      },
      onBoot: () => {
        // A status from before the reset says nothing about this boot.
        if (scenario) scenario.status = {};
      },
    });
    const geometry = firmwareFile === null ? null : { blockSize: device.firmwareBlockSize!, blockCount: device.firmwareBlockCount! };
    scenario = new Scenario(cloud, device, ntp, dir, thingName, firmwareFile, geometry, bundle, kvFile);
    scenario.logs.push(...pendingLogs);
    await device.start();
    return scenario;
  }

  /** What the bootloader decided at the last boot (null without a firmware flash). */
  get bootState(): BootState | null {
    return this.device.bootState;
  }

  /** Every boot attempt so far (power-on, reboots, failed boots), oldest first. */
  get boots(): readonly BootRecord[] {
    return this.device.boots;
  }

  /**
   * Works on the firmware flash from outside the firmware (a test staging an
   * image, as an updater would); the slots are read from the file each time,
   * as the bootloader does at the next reset.
   */
  withFirmwareSlots<T>(work: (slots: FirmwareSlots) => T): T {
    if (this.firmwareFile === null || this.firmwareGeometry === null) throw new Error('scenario without a firmware flash');
    const flash = new FileFlash({ path: this.firmwareFile, ...this.firmwareGeometry, sync: true });
    try {
      return work(new FirmwareSlots(flash));
    } finally {
      flash.close();
    }
  }

  /** The firmware's own reset (its reboot op, from the console); resolves once the device booted again and came up. */
  async reboot(timeoutMs = REBOOT_TIMEOUT_MS): Promise<BootRecord> {
    const before = this.device.bootCount;
    await this.device.control({ command: 'reboot' });
    return this.untilBooted(before, timeoutMs);
  }

  /**
   * Power cut at the first persistent write `when` picks (that write torn,
   * see VirtualDevice.powerCutAt), then power on; resolves with the torn
   * write and the boot that came up after it.
   */
  async powerCutAt(when: (w: PersistentWrite) => boolean, timeoutMs: number): Promise<{ cut: PersistentWrite; boot: BootRecord }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no power cut within ${timeoutMs} ms; last logs: ${this.logs.slice(-8).join(' | ')}`)), timeoutMs);
    });
    let cut: PersistentWrite;
    try {
      cut = await Promise.race([this.device.powerCutAt(when), timeout]);
    } finally {
      clearTimeout(timer);
    }
    const before = this.device.bootCount;
    this.status = {};
    await this.device.start();
    return { cut, boot: await this.untilBooted(before, REBOOT_TIMEOUT_MS) };
  }

  /** Power cut, then power on: no clean shutdown; the files keep what was written before the cut. */
  async restart(timeoutMs = REBOOT_TIMEOUT_MS): Promise<BootRecord> {
    const before = this.device.bootCount;
    await this.device.powerCut();
    this.status = {};
    await this.device.start();
    return this.untilBooted(before, timeoutMs);
  }

  private async untilBooted(before: number, timeoutMs: number): Promise<BootRecord> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no boot within ${timeoutMs} ms; last logs: ${this.logs.slice(-8).join(' | ')}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.device.rebooted(before), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  get health(): DeviceHealth {
    return this.status.health ?? {};
  }

  /** Asks the firmware for a fresh status report. */
  async refresh(): Promise<DeviceStatus> {
    await this.device.control({ command: 'report' });
    return this.status;
  }

  async waitFor(check: (h: DeviceHealth, s: DeviceStatus) => boolean, timeoutMs: number, what: string): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      await this.refresh();
      if (check(this.health, this.status)) return;
      if (this.device.error) throw this.device.error;
      if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; status ${JSON.stringify(this.status)}; last logs: ${this.logs.slice(-8).join(' | ')}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  waitReady(timeoutMs = 30_000): Promise<void> {
    return this.waitFor((h) => h.timeState === 'SYNCED' && Number(h.credentialsLeftMs) > 0, timeoutMs, 'trusted time and credentials');
  }

  waitDrained(timeoutMs = 60_000): Promise<void> {
    return this.waitFor((h) => h.queueDepth === 0, timeoutMs, 'an empty queue');
  }

  /** Queues `count` telemetry records now. */
  burst(count: number): Promise<unknown> {
    return this.device.control({ command: 'burst', count });
  }

  /** (stream:seq) of every record the broker received from this device, with the number of deliveries. */
  delivered(): Map<string, number> {
    return deliveries(this.cloud.messages(), this.thingName);
  }

  async stop(): Promise<void> {
    await this.device.stop().catch(() => undefined);
    await this.cloud.stop().catch(() => undefined);
    for (const s of this.ntp) await s.close().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
