// The dev cloud's notion of "now": the host wall clock plus a shift that
// fault injection sets to simulate a device/cloud skew. Every time decision of
// the gateway and the credentials provider reads this, never Date.now directly.

export class ShiftableClock {
  private shift = 0;
  /** `source` returns epoch ms; tests may pass a fixed or stepping function. */
  constructor(private readonly source: () => number = Date.now) {}
  now(): number {
    return this.source() + this.shift;
  }
  get shiftMs(): number {
    return this.shift;
  }
  setShiftMs(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError('clock shift must be a finite number of ms');
    this.shift = Math.trunc(ms);
  }
}
