// Firmware entry of the virtual device: the agent inside the XS engine, its
// ports bridged to the Node host (tools/vdevice/host.ts). Bundled by rollup
// into build/xs/vdevice.js; `npm start` runs it.
import { HostBridge } from './bridge.js';
import { XsFlash, XsHttp, XsKeyValue, XsRandom, XsTicks, XsTimers, XsUdp, XsWebSockets, xsFirmware, xsReboot, xsTrace } from './ports.js';
import { Agent } from '../../agent.js';
import { NobleSignatureVerifier } from '../../update/verify-noble.js';

/** How often the firmware reports its status to the host's status line. */
const STATUS_INTERVAL_MS = 1000;

function boot(): void {
  const bridge = new HostBridge();
  bridge.install();
  const log = xsTrace(bridge);
  const timers = new XsTimers(bridge);
  const config = bridge.call('config').head.config;
  // The A/B slots of the host's firmware flash (signed firmware updates).
  const firmware = xsFirmware(bridge);
  let agent: Agent;
  try {
    agent = new Agent(
      {
        ticks: new XsTicks(bridge),
        timers,
        random: new XsRandom(bridge),
        udp: new XsUdp(bridge),
        http: new XsHttp(bridge),
        websocket: new XsWebSockets(bridge),
        flash: new XsFlash(bridge),
        kv: new XsKeyValue(bridge),
        firmware,
        // TUF signatures in portable code (@noble/curves) on the virtual device.
        signatureVerifier: new NobleSignatureVerifier(),
        log,
        sample: () => ({ board: 'xs-virtual' }),
      },
      config,
    );
  } catch (e) {
    log(`agent: cannot start: ${(e as Error).message}`);
    throw e;
  }
  const report = () => bridge.call('status', { status: agent.status() });
  const tick = () => {
    report();
    timers.set(tick, STATUS_INTERVAL_MS);
  };
  bridge.on('control', (head) => {
    if (head.command === 'stop-sampling') agent.stopSampling();
    else if (head.command === 'report') report();
    else if (head.command === 'burst') {
      // Bench: queue `count` records at once, as a device coming back online would hold them.
      for (let i = 0; i < Number(head.count); i++) agent.telemetry({ bench: i });
    } else if (head.command === 'reboot') {
      // A reset asked from the host's console (tests): the op FirmwarePort.reboot() sends.
      xsReboot(bridge);
    } else if (head.command === 'gc') {
      const g = globalThis as unknown as { gc?: () => void };
      if (typeof g.gc === 'function') g.gc();
    }
  });
  agent.start();
  tick();
}

boot();
