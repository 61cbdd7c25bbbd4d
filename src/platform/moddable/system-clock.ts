// SystemClockPort over the SDK's `Time.set(seconds)`: the clock the SDK's TLS
// checks certificate dates against, which starts at 1970 on a board (nothing
// else sets it: the agent disables the SDK's own one-reply SNTP with
// `sntp: ""`). The agent sets it from the secure clock only, and opens no TLS
// connection before the first set (requiredBeforeTls).
// On the simulator Time.set() does nothing (Linux), so there the settable
// clock of native/sim-clock (libfaketime's, in tests) is set as well, where
// the build has it (boards/simulator/manifest.json).
import Modules from 'modules';
import Time from 'time';
import type { SystemClockPort } from '../../ports.js';

const SIM_CLOCK_MODULE = 'platform/moddable/native/sim-clock';

/** Modules.importNow answers a module's default export (XS_IMPORT_DEFAULT). */
type SimClock = { set(seconds: number): boolean };

export class ModdableSystemClock implements SystemClockPort {
  readonly requiredBeforeTls = true;
  set(unixMs: number): void {
    // Whole seconds: certificate validity is to the second.
    const seconds = Math.round(unixMs / 1000);
    Time.set(seconds);
    if (Modules.has(SIM_CLOCK_MODULE)) {
      const before = Date.now();
      if ((Modules.importNow('platform/moddable/native/sim-clock') as SimClock).set(seconds))
        trace(`sim-clock: wall clock was ${new Date(before).toISOString()}, now ${new Date(seconds * 1000).toISOString()}\n`);
    }
  }
}
