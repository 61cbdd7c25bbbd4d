// Node adapter for TimerPort. With `unref: true` a pending timer does not
// keep the process alive (long-running schedulers in tools); by default it
// does, so a CLI waiting for a retry does not exit early.
import type { TimerPort } from '../../ports.js';

/** Node's setTimeout limit; longer delays would fire at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class NodeTimers implements TimerPort {
  private readonly unref: boolean;
  constructor(options: { unref?: boolean } = {}) {
    this.unref = options.unref === true;
  }
  set(callback: () => void, delayMs: number): unknown {
    const t = setTimeout(callback, Math.max(0, Math.min(delayMs, MAX_DELAY_MS)));
    if (this.unref) t.unref();
    return t;
  }
  clear(handle: unknown): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  }
}
