// Builds the agent's configuration object (src/agent/config.ts parses and
// validates it) from mc/config and the board config. The agent only takes
// IPv4 literals for time servers (SNTP replies are matched against the address
// queried), so a server given by name is passed as its alias literal
// (AliasedUdp in src/shared/host-table.ts), which the UDP port maps to the
// name's current address. A name that does not resolve is retried with capped
// backoff and re-resolved when its address stops answering: it is never left
// out, and the agent starts even when DNS is down at boot.
import config from 'mc/config';
import Timer from 'timer';
import { AliasedUdp, type HostTable } from '../../shared/host-table.js';
import type { AgentSettings, BoardConfig } from './board-config.js';

/** Longest wait at boot for the first answers (the agent starts either way; names keep resolving). */
export const DNS_TIMEOUT_MS = 5000;
/** How often the boot wait checks whether every name has had its first answer. */
export const DNS_SETTLE_POLL_MS = 100;
/**
 * Trusted floor for the clock when the build did not pass `buildTimeMs`
 * (tools/moddable passes the build time): 2026-11-22T00:00:00Z, the day this
 * firmware configuration was written. A clock earlier than this is wrong.
 */
export const FALLBACK_BUILD_TIME_MS = 1795305600000;
/**
 * On the simulator ticks are wall-clock milliseconds and can jump; a step
 * larger than this between two reads is treated as a jump, not elapsed time.
 * The agent reads the clock at least every sample interval (60 s default).
 */
export const SIMULATOR_MAX_TICK_STEP_MS = 5 * 60 * 1000;

export type RawAgentConfig = Record<string, unknown>;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Optional mc/config `sampleIntervalMs` (the agent's default when absent). */
function sampleInterval(): Record<string, number> {
  const v = Number((config as Record<string, unknown>).sampleIntervalMs);
  return Number.isFinite(v) && v > 0 ? { sampleIntervalMs: v } : {};
}

function buildTime(): number {
  const v = Number((config as Record<string, unknown>).buildTimeMs);
  return Number.isFinite(v) && v >= FALLBACK_BUILD_TIME_MS ? v : FALLBACK_BUILD_TIME_MS;
}

/** The time servers as the agent takes them: literals as given, names as their alias in `table`. */
export function timeServerLiterals(settings: AgentSettings, table: HostTable): string[] {
  const hosts = table.hosts();
  return settings.timeServers.map((server, i) => {
    if (hosts[i] !== server.host) throw new RangeError('time servers: table out of order');
    return `${IPV4.test(server.host) ? server.host : AliasedUdp.aliasOf(i)}:${server.port}`;
  });
}

/**
 * Waits (at most DNS_TIMEOUT_MS) for every time server name's first answer,
 * then calls back once with the raw agent config. `table` holds
 * `settings.timeServers` hosts in order and has been started.
 */
export function loadAgentConfig(settings: AgentSettings, board: BoardConfig, table: HostTable, callback: (raw: RawAgentConfig) => void): void {
  let waited = 0;
  const done = (): void => {
    callback({
      thingName: settings.thingName,
      region: settings.awsRegion,
      roleAlias: settings.roleAlias,
      dataEndpoint: settings.iotEndpoint,
      credentialsEndpoint: settings.credentialsEndpoint,
      timeServers: timeServerLiterals(settings, table),
      transport: settings.transport,
      buildTimeMs: buildTime(),
      phiPpm: board.driftPpmAwake,
      sleepPhiPpm: board.driftPpmAsleep,
      // Chosen per board (boards/<board>/agent.json): the agent refuses a weak RNG without it.
      developmentMode: board.developmentMode,
      ...sampleInterval(),
      ...(board.tickWrapBits === 0 ? { maxTickStepMs: SIMULATOR_MAX_TICK_STEP_MS } : {}),
    });
  };
  const poll = (): void => {
    if (table.settled() || waited >= DNS_TIMEOUT_MS) {
      done();
      return;
    }
    waited += DNS_SETTLE_POLL_MS;
    Timer.set(poll, DNS_SETTLE_POLL_MS);
  };
  poll();
}
