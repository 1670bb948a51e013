// `apitap collect`: frames (a VXLAN mirror socket, or capture files) → collector → bus publisher.
//
// Backpressure: publish() never blocks. For capture files the reader awaits the publisher's ready()
// between file chunks (via the collector's output queue), so a slow or absent broker slows the
// replay instead of losing exchanges. For the live socket nothing can slow the sender (the mirror
// does not wait), so when the publisher's bounded buffer is full the exchange is dropped and counted
// (bus_dropped_buffer_full) — the only drop the design allows, and it is always counted.
import {
  createCollector,
  DEFAULT_COLLECTOR_OPTIONS,
  type Collector,
  type CollectorOptions,
} from '../../../collectors/collector.js';
import { readCapture } from '../../../collectors/source/capture.js';
import { createVxlanReceiver, type VxlanReceiver } from '../../../collectors/source/vxlan-udp.js';
import type { Exchange } from '../../contracts/exchange.js';
import type { ExchangePublisher } from '../../adapters/bus/types.js';
import type { Counters } from '../../contracts/counters.js';
import type { TlsEmitter } from '../../contracts/tls.js';
import { expandInputs } from './inputs.js';
import { ReplayError } from './errors.js';

/**
 * Live mode publishes at once (a full buffer drops and counts). File mode holds the exchanges of one
 * reader chunk and publishes them after awaiting ready() for each, so nothing is dropped for lack of
 * room: the file is read more slowly instead.
 */
function publishingEmitter(
  publisher: ExchangePublisher,
  counters: Counters,
  held: Exchange[] | null,
): (ex: Exchange) => void {
  return (ex) => {
    counters.inc('exchanges_emitted');
    if (held !== null) held.push(ex);
    else publisher.publish(ex);
  };
}

export interface FileProgress {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, file: string) => void;
}

export async function collectFiles(
  inputs: readonly string[],
  publisher: ExchangePublisher,
  counters: Counters,
  copts: Partial<CollectorOptions> = {},
  progress: FileProgress = {},
  /** tls/v1 records (one per TLS connection), beside the exchanges; none are made without it. */
  emitTls?: TlsEmitter,
): Promise<Collector> {
  const files = expandInputs(inputs);
  const held: Exchange[] = [];
  const collector = createCollector(
    { ...DEFAULT_COLLECTOR_OPTIONS, ...copts },
    publishingEmitter(publisher, counters, held),
    counters,
    emitTls,
  );
  const drainHeld = async (): Promise<void> => {
    for (const ex of held) {
      await publisher.ready();
      publisher.publish(ex); // false here only for a record over the size limit: counted by the publisher
    }
    held.length = 0;
  };
  for (const file of files) {
    if (progress.signal?.aborted === true) break;
    const res = await readCapture(file, collector, {
      counters,
      onChunk: drainHeld,
      ...(progress.signal !== undefined ? { signal: progress.signal } : {}),
      ...(progress.onProgress !== undefined
        ? { onProgress: (d: number, t: number) => progress.onProgress?.(d, t, file) }
        : {}),
    });
    for (const p of res.problems) {
      counters.inc(p.code);
      // An aborted read (SIGINT on a live pipe) ends like end of input: flows flushed, report written.
      if (p.fatal && p.code !== 'capture_truncated' && p.code !== 'capture_aborted')
        throw new ReplayError(p.code, p.message);
    }
  }
  collector.finish();
  await drainHeld();
  return collector;
}

export interface LiveCollector {
  receiver: VxlanReceiver;
  collector: Collector;
  /** Stop receiving, end every open connection, flush the publisher. */
  stop(): Promise<void>;
}

export async function collectVxlan(
  host: string,
  port: number,
  publisher: ExchangePublisher,
  counters: Counters,
  copts: Partial<CollectorOptions> = {},
  recvBufferBytes = 64 * 1024 * 1024,
): Promise<LiveCollector> {
  const collector = createCollector(
    { ...DEFAULT_COLLECTOR_OPTIONS, ...copts },
    publishingEmitter(publisher, counters, null),
    counters,
  );
  const receiver = createVxlanReceiver({ host, port, recvBufferBytes }, collector, counters);
  await receiver.start();
  return {
    receiver,
    collector,
    async stop() {
      await receiver.stop();
      collector.finish();
      await publisher.close();
    },
  };
}
