// Starts the agent on a Moddable board: validates the board and provisioning
// configuration, loads the device identity, keeps the time server names resolved, builds
// the ports and starts src/agent.ts. Every failure to start is traced with
// its typed error code; no secret is ever traced.
import config from 'mc/config';
import Modules from 'modules';
import { Agent } from '../../agent.js';
import { agentSettings, boardConfig, deviceIdentity } from './board-config.js';
import { AliasedUdp, HostTable } from '../../shared/host-table.js';
import { loadAgentConfig } from './agent-config.js';
import { createAgentPorts } from './agent-ports.js';
import { ModdableResolver } from './resolve.js';
import { reseedSdkRandomness } from './random.js';

/**
 * Shortest period for the optional status trace (mc/config `statusIntervalMs`).
 * Without it the agent still traces each change of its clock state and of the
 * uploader's reason for holding data back, as it happens.
 */
export const MIN_STATUS_INTERVAL_MS = 1000;

/** Heap use from the SDK's Instrumentation, where the build has it (`mcconfig -i` plus its manifest: measurement builds only). */
function memoryLine(): string | null {
  if (!Modules.has('instrumentation')) return null;
  const instrumentation = Modules.importNow('instrumentation') as { map(name: string): number | undefined; get(what: number | undefined): number | undefined };
  const read = (name: string): number | null => instrumentation.get(instrumentation.map(name)) ?? null;
  // Slots and chunks as used now (sampled); the stack figure is the peak so far.
  return JSON.stringify({ slotBytes: read('XS Slot Heap Used'), chunkBytes: read('XS Chunk Heap Used'), stackPeakBytes: read('XS Stack Used') });
}

function log(line: string): void {
  trace(`${line}\n`);
}

/** The error's message, prefixed with its code unless the message already starts with it. */
function describe(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : 'unknown error';
  return typeof code === 'string' && !message.startsWith(code) ? `[${code}] ${message}` : message;
}

/** Calls back with the started agent, or null after tracing why it could not start. */
export function startAgent(started?: (agent: Agent | null) => void): void {
  let board, settings, provisioned;
  try {
    // Before anything can open a connection: the SDK's TLS generator and rand() start from the same state every boot otherwise.
    log(`random: TLS generator and rand() reseeded from ${reseedSdkRandomness()}`);
    board = boardConfig();
    settings = agentSettings();
    provisioned = deviceIdentity();
  } catch (e) {
    log(`agent: not started: ${describe(e)}`);
    started?.(null);
    return;
  }
  const identity = provisioned?.identity ?? null;
  if (!identity) log('agent: no device certificate provisioned; TLS requests will be refused by AWS');
  else log(`agent: ${provisioned!.trustAnchors.length} trust anchor(s); server chains must lead to one of them`);
  // Handshake tracing (simulator only). Server verification cannot be switched off.
  const c = config as Record<string, unknown>;
  const tlsDebug = { trace: board.name === 'simulator' && String(c.tlsTrace) === '1' };
  const ports = createAgentPorts(board, identity, provisioned?.trustAnchors ?? [], log, tlsDebug);
  // Time server names stay resolved for the agent's lifetime (retried, refreshed on silence).
  const names = new HostTable({
    resolver: new ModdableResolver(),
    timers: ports.timers,
    random: ports.random,
    hosts: settings.timeServers.map((s) => s.host),
    onChange: (host, address) => log(`dns: ${host} is ${address}`),
  });
  ports.udp = new AliasedUdp(ports.udp, names);
  names.hosts().forEach((host, i) => {
    if (names.address(host) !== host) log(`dns: time server ${host} is ${AliasedUdp.aliasOf(i)} in the agent's log`);
  });
  names.start();
  loadAgentConfig(settings, board, names, (raw) => {
    let agent: Agent;
    try {
      agent = new Agent(ports, raw);
    } catch (e) {
      log(`agent: not started: ${describe(e)}`);
      started?.(null);
      return;
    }
    agent.start();
    const every = Number(c.statusIntervalMs);
    if (Number.isFinite(every) && every >= MIN_STATUS_INTERVAL_MS) {
      const report = (): void => {
        log(`status: ${JSON.stringify(agent.status())}`);
        const memory = memoryLine();
        if (memory) log(`memory: ${memory}`);
        ports.timers.set(report, every);
      };
      ports.timers.set(report, every);
    }
    started?.(agent);
  });
}
