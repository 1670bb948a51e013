// The embedded store's directory check, apart from chdb.ts so that a caller can fail fast on an
// unusable directory without loading chDB's native library (~200 MB of RSS once mapped).
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { StoreError, STORE_ERROR_CODES } from './errors.js';

/** Creates `dir` if needed; throws 'store_config' unless it is a readable, writable directory. */
export function checkStoreDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (cause) {
    const reason = (cause as { code?: string; message?: string }).code ?? (cause as Error).message;
    throw new StoreError(STORE_ERROR_CODES.config, `chDB directory ${dir} is not usable (${reason})`, { cause });
  }
}
