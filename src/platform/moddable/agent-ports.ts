// The agent's ports (src/agent.ts AgentPorts) made of Moddable adapters, as
// the board config says. The flash adapter is chosen by storage kind and
// loaded by name, because each board's build contains only the storage
// modules it has (`flash` on ESP32, raw sectors on Pico W, `file` elsewhere).
import Modules from 'modules';
import type { FlashPort } from '../../ports.js';
import type { AgentPorts } from '../../agent.js';
import type { BoardConfig, StorageConfig } from './board-config.js';
import { ModdableError } from './errors.js';
import { ModdableHttp } from './http.js';
import { PreferenceKeyValue } from './preference-kv.js';
import { ModdableRandom } from './random.js';
import { ModdableSystemClock } from './system-clock.js';
import { cryptSha256Factory } from './sha256.js';
import { ModdableTicks } from './ticks.js';
import { ModdableTimers } from './timer.js';
import { ModdableSignatureVerifier } from './tuf-verify.js';
import type { TlsDebug, TlsIdentity } from './tls.js';
import { ModdableUdp } from './udp.js';
import { ModdableWebSockets } from './websocket.js';

type FlashModule = {
  PartitionFlash?: new (o: { partition: string }) => FlashPort;
  FileFlash?: new (o: { path: string; blockSize: number; blockCount: number }) => FlashPort;
  PicoFlash?: new (o: { blockSize: number; blockCount: number }) => FlashPort;
};

export function createFlash(storage: StorageConfig): FlashPort {
  if (storage.kind === 'partition') {
    const m = storageModule(storage.kind, 'platform/moddable/flash/partition', () => Modules.importNow('platform/moddable/flash/partition'));
    return new m.PartitionFlash!({ partition: storage.partition });
  }
  if (storage.kind === 'pico-flash') {
    const m = storageModule(storage.kind, 'platform/moddable/flash/pico', () => Modules.importNow('platform/moddable/flash/pico'));
    return new m.PicoFlash!({ blockSize: storage.blockSize, blockCount: storage.blockCount });
  }
  // Only the simulator builds the file store: on Pico W the SDK's littlefs ignores the result of
  // close, so a lost write would look stored (boards/pico_w/README.md, Queue storage).
  const m = storageModule(storage.kind, 'platform/moddable/flash/file', () => Modules.importNow('platform/moddable/flash/file'));
  return new m.FileFlash!({ path: storage.path, blockSize: storage.blockSize, blockCount: storage.blockCount });
}

/**
 * The board's storage module, or a configuration error naming the kind its build lacks. Callers
 * spell the import out (`load`): test/moddable-manifest.test.ts finds module edges by that literal.
 */
function storageModule(kind: StorageConfig['kind'], specifier: string, load: () => unknown): FlashModule {
  if (!Modules.has(specifier)) throw new ModdableError('INVALID_CONFIG', `storage.kind "${kind}" is not built for this board (no ${specifier})`);
  return load() as FlashModule;
}

export function createAgentPorts(
  board: BoardConfig,
  identity: TlsIdentity | null,
  trustAnchors: readonly ArrayBuffer[],
  log: (line: string) => void,
  tlsDebug: TlsDebug = {},
): AgentPorts {
  return {
    ticks: new ModdableTicks({ wrapBits: board.tickWrapBits }),
    timers: new ModdableTimers(),
    random: new ModdableRandom({ hardware: board.randomIsHardware }),
    udp: new ModdableUdp(),
    http: new ModdableHttp({ identity, trustAnchors, log, tlsDebug }),
    websocket: new ModdableWebSockets(identity, trustAnchors, tlsDebug),
    flash: createFlash(board.storage),
    kv: new PreferenceKeyValue({ domain: board.preferenceDomain, maxValueBytes: board.preferenceMaxValueBytes }),
    sha256: cryptSha256Factory,
    log,
    sample: () => ({ board: board.name }),
    systemClock: new ModdableSystemClock(),
    // Native P-256 and RSA; Ed25519 keys count as no signature on boards (tuf-verify.ts).
    signatureVerifier: new ModdableSignatureVerifier(),
  };
}
