// KeyValuePort over the Moddable `preference` module: a JSON file on the
// simulator, NVS on ESP32, a tiny flash area on Pico. The limits are the
// tightest of the platforms we run on, checked up front so a setting that
// works in the simulator cannot fail on the board:
// - ESP32 NVS namespace (our domain) and key names: at most 15 characters;
// - values: `maxValueBytes` UTF-8 bytes (board config: 3999 for ESP32 NVS
//   strings, whose 4000-byte limit includes the NUL; 62 on Pico, whose
//   modPreferenceSet refuses more than 63 bytes, NUL included).
// A rejected key or value throws ModdableError('PREFERENCE_LIMIT') before
// anything is written.
import Preference from 'preference';
import type { KeyValuePort } from '../../ports.js';
import { ModdableError } from './errors.js';
import { utf8Length } from '../../shared/utf8.js';

/** ESP32 NVS: NVS_KEY_NAME_MAX_SIZE is 16 including the terminating NUL. */
export const PREFERENCE_NAME_MAX_CHARS = 15;

export interface PreferenceKeyValueOptions {
  /** Preference domain (NVS namespace), 1..15 printable ASCII characters. */
  domain: string;
  /** Largest value in UTF-8 bytes (board config `preferenceMaxValueBytes`). */
  maxValueBytes: number;
}

/** NVS names are NUL-terminated C strings; we keep to printable ASCII so every platform stores them alike. */
const NAME_PATTERN = /^[\x21-\x7e]+$/;

function checkName(what: string, name: string): void {
  if (name.length < 1 || name.length > PREFERENCE_NAME_MAX_CHARS || !NAME_PATTERN.test(name))
    throw new ModdableError('PREFERENCE_LIMIT', `${what} must be 1..${PREFERENCE_NAME_MAX_CHARS} printable ASCII characters (got ${name.length} characters)`);
}

export class PreferenceKeyValue implements KeyValuePort {
  private readonly domain: string;
  private readonly maxValueBytes: number;
  constructor(options: PreferenceKeyValueOptions) {
    checkName('preference domain', options.domain);
    if (!(Number.isInteger(options.maxValueBytes) && options.maxValueBytes > 0))
      throw new ModdableError('INVALID_CONFIG', 'preferenceMaxValueBytes must be a positive integer');
    this.domain = options.domain;
    this.maxValueBytes = options.maxValueBytes;
  }
  get(key: string): string | undefined {
    checkName('preference key', key);
    const value = Preference.get(this.domain, key);
    return typeof value === 'string' ? value : undefined;
  }
  set(key: string, value: string): void {
    checkName('preference key', key);
    const bytes = utf8Length(value, 0, value.length, true);
    if (bytes > this.maxValueBytes)
      throw new ModdableError('PREFERENCE_LIMIT', `value for ${key} is ${bytes} bytes, limit ${this.maxValueBytes}`);
    Preference.set(this.domain, key, value);
  }
}
