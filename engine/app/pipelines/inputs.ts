// Expanding the CLI's capture arguments: files as given, directories walked for capture files.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const CAPTURE_NAME = /\.(pcap|pcapng|cap|dmp)(\.(gz|zst|xz))?$/i;

export class InputError extends Error {
  readonly code = 'input_error';
}

/** Files in argument order ('-' = standard input, at most once); each directory contributes its capture files sorted by path (recursive). */
export function expandInputs(args: readonly string[]): string[] {
  const out: string[] = [];
  if (args.filter((a) => a === '-').length > 1) throw new InputError('-: standard input can be read only once');
  for (const a of args) {
    if (a === '-') {
      out.push(a);
      continue;
    }
    let st;
    try {
      st = statSync(a);
    } catch (e) {
      throw new InputError(
        `${a}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`,
      );
    }
    if (st.isDirectory()) {
      const found = walk(a);
      if (found.length === 0)
        throw new InputError(
          `${a}: directory holds no capture files (*.pcap, *.pcapng, *.cap, optionally .gz/.zst/.xz)`,
        );
      out.push(...found);
    } else out.push(a);
  }
  return out;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...walk(p));
    else if (CAPTURE_NAME.test(name)) out.push(p);
  }
  return out;
}
