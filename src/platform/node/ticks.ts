// Node adapter for TickSource: process.hrtime in microseconds, which is
// monotonic and does not wrap within a run.
import type { TickSource } from '../../ports.js';

export class NodeTicks implements TickSource {
  readonly ticksPerSecond = 1_000_000;
  readonly wrapBits = 0;
  private readonly origin = process.hrtime.bigint();
  ticks(): number {
    return Number((process.hrtime.bigint() - this.origin) / 1000n);
  }
}
