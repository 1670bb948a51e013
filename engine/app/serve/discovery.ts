// How other processes find the instance that owns an embedded store: `<store>/serve.json`, written by
// the owner once its ClickHouse HTTP interface listens and removed when it stops. It holds the URL and
// the owner's pid, never credentials (clients take APITAP_HTTP_USER / APITAP_HTTP_PASSWORD from
// their environment). A file whose pid is gone (the owner was killed) is ignored.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const SERVE_FILE = 'serve.json';

const ServeFile = z.object({ schema: z.literal('serve/v1'), url: z.string().url(), pid: z.number().int().positive() });
export type ServeInfo = z.infer<typeof ServeFile>;

export function writeServeFile(dir: string, url: string): void {
  const p = join(dir, SERVE_FILE);
  const info: ServeInfo = { schema: 'serve/v1', url, pid: process.pid };
  writeFileSync(`${p}.tmp`, JSON.stringify(info) + '\n');
  renameSync(`${p}.tmp`, p);
}

/** Removes the file if this process wrote it. */
export function removeServeFile(dir: string): void {
  const info = readServeFile(dir);
  if (info !== null && info.pid === process.pid) rmSync(join(dir, SERVE_FILE), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running owner of the store in `dir`, or null (no file, unreadable, or its process is gone). */
export function readServeFile(dir: string): ServeInfo | null {
  let text: string;
  try {
    text = readFileSync(join(dir, SERVE_FILE), 'utf8');
  } catch {
    return null;
  }
  let parsed: ServeInfo;
  try {
    parsed = ServeFile.parse(JSON.parse(text));
  } catch {
    return null;
  }
  return alive(parsed.pid) ? parsed : null;
}
