// RandomPort over the board's own random source (native/hardware-random, one
// C file per platform, chosen by the board manifest): getrandom() on the
// simulator (the kernel CSPRNG: strong), esp_fill_random() on ESP32 (the
// hardware RNG: strong while the radio is on, which it is whenever the agent
// talks to the network), get_rand_128() on Pico W (pico_rand: ring-oscillator
// entropy mixed into xoroshiro128**, a software PRNG whose outputs reveal its
// state: NOT strong, so the Pico W board still needs developmentMode).
// The board config states what it expects (`randomIsHardware`, i.e. strong);
// a build whose source disagrees does not start.
//
// reseedSdkRandomness() runs once at boot, before any connection: the SDK's
// TLS generator (modules/crypt/etc/rng.c, RC4-style) seeds itself from 16
// c_rand() bytes, and c_rand() is libc rand(), never seeded, on lin and Pico:
// every boot drew the same TLS randoms. It is rekeyed from this source, and
// srand() is seeded (Math.random, which the SDK's WebSocket key uses).
import RNG from 'rng';
import type { RandomPort } from '../../ports.js';
import { ModdableError } from './errors.js';
import HardwareRandom from './native/hardware-random.js';

/** Seed length for the SDK's TLS generator (RC4 takes up to 256; 32 bytes is 256 bits). */
export const TLS_RNG_SEED_BYTES = 32;
/** Largest fill() done in one native call (bounded temporary buffer). */
export const RANDOM_MAX_FILL_BYTES = 256;

export class ModdableRandom implements RandomPort {
  /** True where the source is cryptographically strong (the native module says; the board config must agree). */
  readonly strong: boolean;
  /** Name of the source: getrandom, esp_fill_random or pico_rand. */
  readonly source: string;
  constructor(options: { hardware: boolean }) {
    this.strong = HardwareRandom.strong();
    this.source = HardwareRandom.source();
    if (this.strong !== options.hardware)
      throw new ModdableError('INVALID_CONFIG', `config.board.randomIsHardware is ${options.hardware}, but this build's random source (${this.source}) is ${this.strong ? '' : 'not '}strong`);
  }
  fill(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; at += RANDOM_MAX_FILL_BYTES) {
      const n = Math.min(RANDOM_MAX_FILL_BYTES, bytes.length - at);
      const chunk = new ArrayBuffer(n);
      HardwareRandom.fill(chunk);
      bytes.set(new Uint8Array(chunk), at);
    }
  }
}

/** Rekeys the SDK's TLS generator and seeds libc rand() from the board's source; answers the source's name. */
export function reseedSdkRandomness(): string {
  const seed = new ArrayBuffer(TLS_RNG_SEED_BYTES);
  HardwareRandom.fill(seed);
  RNG.init(seed);
  HardwareRandom.reseedLibc();
  return HardwareRandom.source();
}
