// Host name resolution for the time servers (UDP needs IPv4 literals), as the
// core's ResolverPort: src/shared/host-table.ts retries, bounds and refreshes.
// Uses the legacy `net` module's DNS resolver, present wherever the SDK's
// network manifest is included. A literal is returned as is.
import Net from 'net';
import type { ResolverPort } from '../../ports.js';

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export class ModdableResolver implements ResolverPort {
  /** Calls back at most once with the address, or null when resolution failed. */
  resolve(host: string, callback: (address: string | null) => void): void {
    if (IPV4.test(host)) {
      callback(host);
      return;
    }
    let done = false;
    Net.resolve(host, (_name, address) => {
      if (done) return;
      done = true;
      callback(address ?? null);
    });
  }
}
