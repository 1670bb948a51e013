// A replay analysis thread: owns the API hosts of one shard. Exchanges arrive over the thread bus in
// capture order; exchange rows go to main (which holds an open store) in batches, or to a spill file
// when main opens its embedded store only at the end; at the end the shard's inventory, findings,
// observation window and counters. See protocol.ts.
import { closeSync, openSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Counters } from '../../contracts/counters.js';
import type { ExchangeRow } from '../../adapters/store/types.js';
import { consumeThreadShard } from '../../adapters/bus/threads.js';
import { createAnalysisSession } from '../pipelines/analyze.js';
import type { AnalysisMsg, AnalysisWorkerData } from './protocol.js';

const ROWS_PER_MESSAGE = 2000;
const SPILL_FLUSH_CHARS = 1 << 20;

async function main(data: AnalysisWorkerData): Promise<AnalysisMsg> {
  const counters = new Counters();
  const session = createAnalysisSession(
    {
      specs: data.specs,
      previousSpecs: data.previousSpecs,
      graphqlSchemas: data.graphqlSchemas,
      overrides: data.overrides,
      secret: Buffer.from(data.secret),
      store: null,
      certificateExpiringDays: data.certificateExpiringDays,
      actors: data.actors,
      bodies: data.bodies,
    },
    counters,
  );
  let rows: ExchangeRow[] = [];
  const sendRows = (): void => {
    if (rows.length === 0) return;
    parentPort?.postMessage({ t: 'rows', rows } satisfies AnalysisMsg);
    rows = [];
  };
  const spill = data.spillPath !== null ? openSync(data.spillPath, 'w') : -1;
  let spilled = '';
  try {
    await consumeThreadShard(data.port, async (batch) => {
      for (const ex of batch) {
        const row = session.observe(ex);
        if (spill >= 0) {
          spilled += JSON.stringify(row) + '\n';
          if (spilled.length >= SPILL_FLUSH_CHARS) {
            writeSync(spill, spilled);
            spilled = '';
          }
        } else if (data.rows) rows.push(row);
      }
      if (rows.length >= ROWS_PER_MESSAGE) sendRows();
    });
    if (spill >= 0 && spilled.length > 0) writeSync(spill, spilled);
  } finally {
    if (spill >= 0) closeSync(spill);
  }
  sendRows();
  const a = session.analysis;
  const { firstUs, lastUs } = session.span();
  return {
    t: 'done',
    endpoints: a.endpoints(),
    findings: a.findings(),
    pathMap: a.pathMap(),
    window: a.window(),
    stats: a.stats(),
    firstUs,
    lastUs,
    events: a.actorEvents(),
  };
}

main(workerData as AnalysisWorkerData).then(
  (m) => parentPort?.postMessage(m),
  (e: unknown) => parentPort?.postMessage({ t: 'error', message: (e as Error).message } satisfies AnalysisMsg),
);
