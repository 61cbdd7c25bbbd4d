// Ranges of the agent settings that a signed config bundle may also set
// (src/update/config-bundle.ts). They restate the literals of
// src/agent/config.ts parseAgentConfig, which src/update may not import (it
// is a lower layer); test/core/update-config.suite.ts checks that
// parseAgentConfig accepts exactly these ranges, so the two cannot drift.

export const MIN_SAMPLE_INTERVAL_MS = 10;
export const MAX_SAMPLE_INTERVAL_MS = 86_400_000;
/** 0 turns periodic health reports off. */
export const MIN_HEALTH_INTERVAL_MS = 0;
export const MAX_HEALTH_INTERVAL_MS = 86_400_000;
export const MIN_MIN_SOURCES = 1;
/** The agent's MAX_TIME_SERVERS: more agreeing sources than servers cannot exist. */
export const MAX_MIN_SOURCES = 8;
export const MIN_MAX_BOUND_MS = 1;
export const MAX_MAX_BOUND_MS = 300_000;
export const MIN_PHI_PPM = 0;
export const MAX_PHI_PPM = 100_000;
