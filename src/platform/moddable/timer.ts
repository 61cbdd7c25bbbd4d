// TimerPort over the Moddable `timer` module (one-shot timers).
import Timer from 'timer';
import type { TimerPort } from '../../ports.js';

export class ModdableTimers implements TimerPort {
  set(callback: () => void, delayMs: number): unknown {
    return Timer.set(() => callback(), delayMs > 0 ? delayMs : 0);
  }
  clear(handle: unknown): void {
    if (handle) Timer.clear(handle as ReturnType<typeof Timer.set>);
  }
}
