// Source selection: which time samples to believe.
//
// Each sample is an interval [low, high] that contains the true value if its
// source is honest. We look for the points covered by a strict majority of
// the intervals (need = floor(n/2) + 1, and at least `minSources`) and return
// the smallest interval containing all of them (NTP's intersection algorithm,
// a generalisation of Marzullo's). If the honest sources are a strict
// majority, the true value is covered by all of them, hence by at least
// `need` intervals, hence lies in the result: a minority of liars can widen
// nothing beyond what the majority allows and can never move the result off
// the truth. Using a smaller `need` (e.g. the maximum coverage) would let two
// colluding liars that overlap two honest intervals away from the truth pick
// the result, so we do not.
//
// A sample whose interval contains no majority point is a falseticker.
// Bounded: at most MAX_SELECTION_SOURCES samples, O(n^2) work, no allocation.

/** Upper bound on samples in one selection (servers plus Date votes). */
export const MAX_SELECTION_SOURCES = 16;

/** Preallocated selection input and output. */
export class Selection {
  readonly lows = new Float64Array(MAX_SELECTION_SOURCES);
  readonly highs = new Float64Array(MAX_SELECTION_SOURCES);
  /** Per sample after select(): true when its interval contains a majority point. */
  readonly truechimer: boolean[] = new Array<boolean>(MAX_SELECTION_SOURCES).fill(false);
  count = 0;
  /** Result interval; valid only when select() returned true. */
  low = 0;
  high = 0;
  /** Coverage threshold used (floor(n/2)+1 or minSources, whichever is larger). */
  need = 0;
  agreeing = 0;

  clear(): void {
    this.count = 0;
  }

  /** Adds a closed interval; returns false (and adds nothing) when full or not a valid interval. */
  add(low: number, high: number): boolean {
    if (this.count >= MAX_SELECTION_SOURCES || !(low <= high) || !Number.isFinite(low) || !Number.isFinite(high)) return false;
    this.lows[this.count] = low;
    this.highs[this.count] = high;
    this.count++;
    return true;
  }

  private coverage(point: number): number {
    let c = 0;
    for (let k = 0; k < this.count; k++) if (this.lows[k]! <= point && point <= this.highs[k]!) c++;
    return c;
  }

  /** Runs the selection. True when a strict majority of at least `minSources` samples agree. */
  select(minSources: number): boolean {
    const n = this.count;
    this.need = Math.max(Math.floor(n / 2) + 1, minSources);
    this.agreeing = 0;
    for (let i = 0; i < n; i++) this.truechimer[i] = false;
    if (n === 0 || this.need > n) return false;
    // The set of points with coverage >= need is a finite union of closed
    // intervals whose left ends are sample lows and right ends sample highs.
    let low = Infinity;
    let high = -Infinity;
    for (let j = 0; j < n; j++) {
      if (this.lows[j]! < low && this.coverage(this.lows[j]!) >= this.need) low = this.lows[j]!;
      if (this.highs[j]! > high && this.coverage(this.highs[j]!) >= this.need) high = this.highs[j]!;
    }
    if (!(low <= high)) return false;
    // A sample is a truechimer when it contains a majority point. Coverage is
    // maximal at some left end, so testing the lows inside it suffices.
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const p = this.lows[j]!;
        if (p >= this.lows[i]! && p <= this.highs[i]! && this.coverage(p) >= this.need) {
          this.truechimer[i] = true;
          break;
        }
      }
      if (this.truechimer[i]) this.agreeing++;
    }
    this.low = low;
    this.high = high;
    return true;
  }
}
