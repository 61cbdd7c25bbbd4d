// SystemClockPort over the SDK's `Time.set(seconds)`: the clock the SDK's TLS
// checks certificate dates against, which starts at 1970 on a board (nothing
// else sets it: the agent disables the SDK's own one-reply SNTP with
// `sntp: ""`). The agent sets it from the secure clock only, and opens no TLS
// connection before the first set (requiredBeforeTls).
import Time from 'time';
import type { SystemClockPort } from '../../ports.js';

export class ModdableSystemClock implements SystemClockPort {
  readonly requiredBeforeTls = true;
  set(unixMs: number): void {
    // Whole seconds: certificate validity is to the second.
    Time.set(Math.round(unixMs / 1000));
  }
}
