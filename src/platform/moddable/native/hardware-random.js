// The board's own randomness, as native functions (C: one file per platform,
// chosen by the board manifest): getrandom() on Linux (the simulator),
// get_rand_128() on Pico (pico_rand), esp_fill_random() on ESP32.
// src/platform/moddable/random.ts is the only user.
const HardwareRandom = {
	// Fills the ArrayBuffer with random bytes; throws if the source fails.
	fill(buffer) @ "xs_agent_random_fill",
	// Reseeds libc rand() (c_rand: Math.random on lin and Pico) from this source.
	reseedLibc() @ "xs_agent_random_reseed_libc",
	// Name of the source, for the boot log.
	source() @ "xs_agent_random_source",
	// True only where the source is cryptographically strong.
	strong() @ "xs_agent_random_strong",
};

Object.freeze(HardwareRandom);

export default HardwareRandom;
