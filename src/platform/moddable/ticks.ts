// TickSource over the Moddable `time` module.
//
// On ESP32 and Pico `Time.ticks` is a monotonic signed 32-bit millisecond
// count that goes negative after ~24.8 days; we hand the monotonic clock the
// same bits as an unsigned 32-bit value (`>>> 0`) and declare wrapBits 32, so
// the clock's wrap-safe subtraction sees an ordinary wrapping counter. On the
// desktop simulator `Time.ticks` is wall-clock milliseconds (it can jump, it
// does not wrap within a run): wrapBits 0 and the clock's jump detection
// handles it. The board config says which (`board.tickWrapBits`).
import Time from 'time';
import type { TickSource } from '../../ports.js';

export class ModdableTicks implements TickSource {
  readonly ticksPerSecond = 1000;
  readonly wrapBits: number;
  constructor(options: { wrapBits: 0 | 32 }) {
    if (options.wrapBits !== 0 && options.wrapBits !== 32) throw new RangeError('wrapBits must be 0 or 32');
    this.wrapBits = options.wrapBits;
  }
  ticks(): number {
    return this.wrapBits === 32 ? Time.ticks >>> 0 : Time.ticks;
  }
}
