// Host name resolution for the time servers (UDP needs IPv4 literals). Uses
// the legacy `net` module's DNS resolver, present wherever the SDK's network
// manifest is included. A literal is returned as is.
import Net from 'net';

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Calls back exactly once with the address, or null when resolution failed. */
export function resolveHost(host: string, callback: (address: string | null) => void): void {
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
