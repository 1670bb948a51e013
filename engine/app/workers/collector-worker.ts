// The replay's collector thread: captures → collector → thread bus (sharded by API host), and the
// exchange/v1 JSONL in capture order. Reports its counters to main when done. See protocol.ts.
import { closeSync, openSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { CounterName } from '../../contracts/catalogue.js';
import { Counters } from '../../contracts/counters.js';
import type { Exchange } from '../../contracts/exchange.js';
import type { TlsHandshake } from '../../contracts/tls.js';
import { createThreadPublisher } from '../../adapters/bus/threads.js';
import type { ExchangePublisher } from '../../adapters/bus/types.js';
import { collectFiles } from '../pipelines/collect.js';
import { TrafficAccumulator } from '../report/traffic.js';
import type { CollectorMsg, CollectorWorkerData } from './protocol.js';

const JSONL_FLUSH_BYTES = 1 << 20;

async function main(data: CollectorWorkerData): Promise<CollectorMsg> {
  const counters = new Counters();
  const bus = data.ports.length > 0 ? createThreadPublisher(data.ports, counters) : null;
  const fd = data.exchangesPath !== null ? openSync(data.exchangesPath, 'w') : -1;
  let pending = '';
  // Tees every exchange into the JSONL file (in capture order) before the bus shards it.
  const traffic = new TrafficAccumulator();
  const publisher: ExchangePublisher = {
    publish(ex: Exchange) {
      traffic.add(ex.request?.startUs ?? ex.response?.startUs ?? -1, ex.response?.status ?? null);
      if (fd >= 0) {
        pending += JSON.stringify(ex) + '\n';
        if (pending.length >= JSONL_FLUSH_BYTES) {
          writeSync(fd, pending);
          pending = '';
        }
      }
      return bus === null ? true : bus.publish(ex);
    },
    ready: () => (bus === null ? Promise.resolve() : bus.ready()),
    buffered: () => bus?.buffered() ?? 0,
    flush: () => (bus === null ? Promise.resolve() : bus.flush()),
    close: () => (bus === null ? Promise.resolve() : bus.close()),
  };
  let last = 0;
  let tls: TlsHandshake[] = [];
  const sendTls = (): void => {
    if (tls.length === 0) return;
    parentPort?.postMessage({ t: 'tls', recs: tls } satisfies CollectorMsg);
    tls = [];
  };
  try {
    const collector = await collectFiles(
      data.files,
      publisher,
      counters,
      data.collector,
      {
        ...(data.progress
          ? {
              onProgress: (done: number, total: number, file: string) => {
                const now = Date.now(); // throttles the terminal display only, never in data
                if (now - last < 200 && done < total) return;
                last = now;
                parentPort?.postMessage({ t: 'progress', done, total, file } satisfies CollectorMsg);
              },
            }
          : {}),
      },
      data.tls
        ? (rec) => {
            tls.push(rec);
            if (tls.length >= 256) sendTls();
          }
        : undefined,
    );
    sendTls();
    await publisher.close();
    return {
      t: 'done',
      counters: counters.snapshot() as Partial<Record<CounterName, number>>,
      firstUs: collector.firstUs,
      lastUs: collector.lastUs,
      traffic: traffic.series(),
    };
  } finally {
    if (fd >= 0) {
      if (pending.length > 0) writeSync(fd, pending);
      closeSync(fd);
    }
  }
}

main(workerData as CollectorWorkerData).then(
  (m) => parentPort?.postMessage(m),
  (e: unknown) => {
    const err = e as Error & { code?: unknown };
    parentPort?.postMessage({
      t: 'error',
      code: typeof err.code === 'string' ? err.code : null,
      message: err.message,
    } satisfies CollectorMsg);
  },
);
