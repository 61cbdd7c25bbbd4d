// What the broker received from one device: deliveries per (stream:seq),
// read from the uploader's envelopes {"device","stream","records":[{"seq"}]}.
// A count above 1 is an at-least-once redelivery.
import type { LoggedMessage } from '../devcloud/observability.js';

export function deliveries(messages: LoggedMessage[], device: string): Map<string, number> {
  const seen = new Map<string, number>();
  for (const m of messages) {
    let env: { device?: string; stream?: string; records?: Array<{ seq: number }> };
    try {
      env = JSON.parse(m.payload) as typeof env;
    } catch {
      continue;
    }
    if (env.device !== device || !Array.isArray(env.records)) continue;
    for (const r of env.records) {
      const key = `${env.stream}:${r.seq}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
  }
  return seen;
}
