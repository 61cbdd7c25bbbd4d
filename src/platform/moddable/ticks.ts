// TickSource over the Moddable `time` module.
//
// On ESP32 and Pico `Time.ticks` is a monotonic signed 32-bit millisecond
// count that goes negative after ~24.8 days; we hand the monotonic clock the
// same bits as an unsigned 32-bit value (`>>> 0`) and declare wrapBits 32, so
// the clock's wrap-safe subtraction sees an ordinary wrapping counter. On the
// desktop simulator `Time.ticks` is wall-clock milliseconds (it can jump, it
// does not wrap within a run): wrapBits 0 and the clock's jump detection
// handles it. The board config says which (`board.tickWrapBits`). Where the
// build has native/sim-clock (the simulator), its CLOCK_MONOTONIC ticks are
// used instead, so that setting the simulator's clock is not a tick jump.
import Modules from 'modules';
import Time from 'time';
import type { TickSource } from '../../ports.js';

const SIM_CLOCK_MODULE = 'platform/moddable/native/sim-clock';

export class ModdableTicks implements TickSource {
  readonly ticksPerSecond = 1000;
  readonly wrapBits: number;
  private readonly monotonic: { ticks(): number } | null;
  constructor(options: { wrapBits: 0 | 32 }) {
    if (options.wrapBits !== 0 && options.wrapBits !== 32) throw new RangeError('wrapBits must be 0 or 32');
    this.wrapBits = options.wrapBits;
    // Modules.importNow answers the module's default export.
    this.monotonic = options.wrapBits === 0 && Modules.has(SIM_CLOCK_MODULE) ? (Modules.importNow('platform/moddable/native/sim-clock') as { ticks(): number }) : null;
  }
  ticks(): number {
    if (this.monotonic) return this.monotonic.ticks();
    return this.wrapBits === 32 ? Time.ticks >>> 0 : Time.ticks;
  }
}
