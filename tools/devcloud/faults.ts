// Fault injection plan, consulted by the gateway and the credentials provider
// for every request. Each fault is a bounded count that the requests consume;
// nothing here is random, so end-to-end tests are reproducible.

export type FaultTarget = 'publish' | 'mqtt' | 'credentials';
export type InjectedStatus = 429 | 500 | 503;
/**
 * `before`: the connection is destroyed as the request arrives; nothing is
 * processed. `after`: the request is processed (an HTTPS publish reaches the
 * broker) and the connection is destroyed instead of answering, so the device
 * cannot know it succeeded: the at-least-once redelivery case.
 */
export type DropWhen = 'before' | 'after';
/** `refuse`: stop listening (connection refused). `hang`: accept and never answer (timeouts). */
export type PauseMode = 'refuse' | 'hang';

/** Largest count one fault call may arm (a bound, and a guard against typos). */
export const MAX_FAULT_COUNT = 1_000_000;

const ALL_TARGETS: readonly FaultTarget[] = ['publish', 'mqtt', 'credentials'];

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > MAX_FAULT_COUNT) throw new RangeError(`fault count must be an integer in [0, ${MAX_FAULT_COUNT}]`);
}

function targetsOf(target: FaultTarget | 'any'): readonly FaultTarget[] {
  if (target === 'any') return ALL_TARGETS;
  if (!ALL_TARGETS.includes(target)) throw new RangeError(`fault target must be one of ${ALL_TARGETS.join(', ')}, any`);
  return [target];
}

export interface FaultState {
  fail: Record<FaultTarget, { status: InjectedStatus; remaining: number } | null>;
  drop: Record<FaultTarget, { when: DropWhen; remaining: number } | null>;
}

export class FaultPlan {
  private readonly fail: FaultState['fail'] = { publish: null, mqtt: null, credentials: null };
  private readonly drop: FaultState['drop'] = { publish: null, mqtt: null, credentials: null };

  /** The next `count` requests to `target` are answered `status` (AWS-shaped body). */
  failNext(status: InjectedStatus, count: number, target: FaultTarget | 'any' = 'publish'): void {
    if (status !== 429 && status !== 500 && status !== 503) throw new RangeError('injected status must be 429, 500 or 503');
    checkCount(count);
    for (const t of targetsOf(target)) this.fail[t] = count > 0 ? { status, remaining: count } : null;
  }

  /** The next `count` requests to `target` lose their connection (see DropWhen). */
  dropNext(count: number, when: DropWhen = 'before', target: FaultTarget | 'any' = 'publish'): void {
    if (when !== 'before' && when !== 'after') throw new RangeError("drop 'when' must be 'before' or 'after'");
    checkCount(count);
    for (const t of targetsOf(target)) this.drop[t] = count > 0 ? { when, remaining: count } : null;
  }

  /** Consumes one injected failure for `target`, if armed. */
  takeFailure(target: FaultTarget): InjectedStatus | null {
    const f = this.fail[target];
    if (f === null) return null;
    if (--f.remaining <= 0) this.fail[target] = null;
    return f.status;
  }

  /** Consumes one drop for `target` at stage `when`, if armed for that stage. */
  takeDrop(target: FaultTarget, when: DropWhen): boolean {
    const d = this.drop[target];
    if (d === null || d.when !== when) return false;
    if (--d.remaining <= 0) this.drop[target] = null;
    return true;
  }

  clear(): void {
    for (const t of ALL_TARGETS) {
      this.fail[t] = null;
      this.drop[t] = null;
    }
  }

  state(): FaultState {
    return { fail: { ...this.fail }, drop: { ...this.drop } };
  }
}
