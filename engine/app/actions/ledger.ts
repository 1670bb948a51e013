// The ledger of settled actions: `<dir>/actions.ledger`, one `<sink> <finding id>` line per action a
// sink settled (the webhook answered 2xx or refused it for good; Kafka acknowledged it). Read once at
// start, appended as actions settle, so a restart (a crash, a new `replay` over the same store) does
// not send again what a receiver already has. Only settled ids are written: an action queued but not
// acknowledged before a crash is sent again after the restart (at-least-once, same id).
// Bounded: at most MAX_IDS ids are kept; beyond that the oldest are forgotten (and could be sent
// again, with the same id). Errors never stop delivery: they are counted (actions_ledger_errors).
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Counters } from '../../contracts/counters.js';

export const LEDGER_FILE = 'actions.ledger';
const MAX_IDS = 1_000_000;

export interface Ledger {
  has(sink: string, id: string): boolean;
  add(sink: string, id: string): void;
}

const line = /^([a-z]+) (\S{1,128})$/;

export function openLedger(dir: string, counters: Counters): Ledger {
  const path = join(dir, LEDGER_FILE);
  const ids = new Set<string>();
  let lines = 0;
  try {
    if (existsSync(path)) {
      for (const l of readFileSync(path, 'utf8').split('\n')) {
        if (line.test(l)) {
          ids.delete(l); // re-insert: the Set's order is the order of last settlement
          ids.add(l);
          lines++;
        }
      }
    } else mkdirSync(dir, { recursive: true });
    if (ids.size > MAX_IDS || lines > 2 * Math.max(ids.size, 1024)) {
      const keep = [...ids].slice(-MAX_IDS);
      ids.clear();
      for (const k of keep) ids.add(k);
      writeFileSync(path + '.tmp', keep.join('\n') + '\n');
      renameSync(path + '.tmp', path);
    }
  } catch {
    counters.inc('actions_ledger_errors');
  }
  return {
    has: (sink, id) => ids.has(`${sink} ${id}`),
    add(sink, id) {
      const k = `${sink} ${id}`;
      if (ids.has(k)) return;
      ids.add(k);
      if (ids.size > MAX_IDS) ids.delete(ids.values().next().value as string);
      try {
        appendFileSync(path, k + '\n');
      } catch {
        counters.inc('actions_ledger_errors');
      }
    },
  };
}
