// The simulator's settable wall clock (lin only: boards/simulator/manifest.json).
// The SDK's Time.set() is a no-op on Linux, so a simulator run that starts at
// 1970 (under libfaketime) could never reach a valid certificate date. When
// the simulator runs with FAKETIME_TIMESTAMP_FILE set, set() writes the new
// time there (libfaketime re-reads it; FAKETIME_NO_CACHE=1), which is what
// Time.set() does to a board's clock. Returns false when there is no such file.
// ticks() is CLOCK_MONOTONIC in milliseconds: on Linux Time.ticks is the wall
// clock, which jumps when set; a board's ticks never do.
const SimulatorClock = {
	set(seconds) @ "xs_agent_sim_clock_set",
	ticks() @ "xs_agent_sim_clock_ticks",
};

Object.freeze(SimulatorClock);

export default SimulatorClock;
