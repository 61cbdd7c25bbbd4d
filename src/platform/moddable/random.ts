// RandomPort over XS's Math.random, which the SDK implements with the host's
// c_rand(): on ESP32 that is esp_random(), the hardware RNG (true random while
// Wi-Fi or Bluetooth is on, which is always the case when the agent talks to
// the network). On Pico and the simulator it is the C library's rand(), which
// is NOT cryptographically strong: `hardware` and `strong` are false there,
// and the agent refuses to start on it unless the board config sets
// `developmentMode` (boards/pico_w, boards/simulator do, until a hardware RNG
// port exists).
import type { RandomPort } from '../../ports.js';

/** Bytes taken from one Math.random() call: c_rand() gives 31 bits, we use 24. */
const BYTES_PER_CALL = 3;

export class ModdableRandom implements RandomPort {
  /** True when the source is a hardware RNG (board config `randomIsHardware`). */
  readonly hardware: boolean;
  /** Only a hardware RNG is strong; libc rand() is not. */
  readonly strong: boolean;
  constructor(options: { hardware: boolean }) {
    this.hardware = options.hardware;
    this.strong = options.hardware;
  }
  fill(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i += BYTES_PER_CALL) {
      let r = Math.floor(Math.random() * 0x1000000);
      for (let k = 0; k < BYTES_PER_CALL && i + k < bytes.length; k++) {
        bytes[i + k] = r & 0xff;
        r >>>= 8;
      }
    }
  }
}
