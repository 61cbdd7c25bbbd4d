// Builds the agent's configuration object (src/agent/config.ts parses and
// validates it) from mc/config and the board config. Time server names are
// resolved to IPv4 literals first, because SNTP replies are matched against
// the address we queried. Resolution runs one name at a time, each bounded by
// DNS_TIMEOUT_MS; a server that does not resolve is left out, and the agent's
// own check (at least `minSources` servers) decides whether that is enough.
import config from 'mc/config';
import Timer from 'timer';
import type { AgentSettings, BoardConfig } from './board-config.js';
import { resolveHost } from './resolve.js';

/** Longest wait for one DNS answer. */
export const DNS_TIMEOUT_MS = 5000;
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

/** Optional mc/config `sampleIntervalMs` (the agent's default when absent). */
function sampleInterval(): Record<string, number> {
  const v = Number((config as Record<string, unknown>).sampleIntervalMs);
  return Number.isFinite(v) && v > 0 ? { sampleIntervalMs: v } : {};
}

function buildTime(): number {
  const v = Number((config as Record<string, unknown>).buildTimeMs);
  return Number.isFinite(v) && v >= FALLBACK_BUILD_TIME_MS ? v : FALLBACK_BUILD_TIME_MS;
}

/** Resolves every time server, then calls back once with the raw agent config. */
export function loadAgentConfig(settings: AgentSettings, board: BoardConfig, callback: (raw: RawAgentConfig) => void): void {
  const resolved: string[] = [];
  const next = (i: number): void => {
    if (i === settings.timeServers.length) {
      callback({
        thingName: settings.thingName,
        region: settings.awsRegion,
        roleAlias: settings.roleAlias,
        dataEndpoint: settings.iotEndpoint,
        credentialsEndpoint: settings.credentialsEndpoint,
        timeServers: resolved,
        transport: settings.transport,
        buildTimeMs: buildTime(),
        phiPpm: board.driftPpmAwake,
        sleepPhiPpm: board.driftPpmAsleep,
        // Chosen per board (boards/<board>/agent.json): the agent refuses a weak RNG without it.
        developmentMode: board.developmentMode,
        ...sampleInterval(),
        ...(board.tickWrapBits === 0 ? { maxTickStepMs: SIMULATOR_MAX_TICK_STEP_MS } : {}),
      });
      return;
    }
    let answered = false;
    const timeout = Timer.set(() => {
      if (answered) return;
      answered = true;
      next(i + 1);
    }, DNS_TIMEOUT_MS);
    const server = settings.timeServers[i]!;
    resolveHost(server.host, (address) => {
      if (answered) return;
      answered = true;
      Timer.clear(timeout);
      if (address) resolved.push(`${address}:${server.port}`);
      next(i + 1);
    });
  };
  next(0);
}
