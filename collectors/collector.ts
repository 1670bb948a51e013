// The collector: frames in, Exchange records out. source → decode → flow → reassembly → http.
//
// TLS connections yield no exchanges: when `emitTls` is given, their cleartext handshake becomes one
// tls/v1 record per connection, emitted through it (collectors/tls/), beside the exchange path.
//
// Contract: `onFrame` is synchronous and never throws on bad input (anomalies are counted); exchanges
// are emitted through `emit` in an order that depends only on the packets (deterministic). `finish`
// ends every open connection as end of capture and must be called once.
import type { Exchange } from '../engine/contracts/exchange.js';
import type { TlsEmitter } from '../engine/contracts/tls.js';
import type { Counters } from '../engine/contracts/counters.js';
import { createDecoder } from './decode/decoder.js';
import { DecodeStatus } from './decode/packet.js';
import {
  createFlowTable,
  DEFAULT_FLOW_OPTIONS,
  HOLD_CLIENT_BYTES,
  holdBytesFor,
  type FlowTableOptions,
} from './flow/table.js';
import { createHttpConnection } from './http/connection.js';
import { DEFAULT_HTTP_OPTIONS, type HttpOptions } from './http/types.js';
import type { FrameSink } from './source/types.js';
import { createTlsBudget, DEFAULT_TLS_OPTIONS, type TlsOptions } from './tls/connection.js';
import { withTls } from './tls/tap.js';

export interface CollectorOptions {
  vxlanPorts: number[];
  /** UDP destination ports carrying Geneve (default 6081; AWS Gateway Load Balancer). */
  genevePorts?: number[];
  flow: FlowTableOptions;
  http: HttpOptions;
  /** TLS handshake bounds (used when the collector has a TLS emitter). */
  tls?: TlsOptions;
}

export const DEFAULT_COLLECTOR_OPTIONS: CollectorOptions = {
  vxlanPorts: [4789],
  genevePorts: [6081],
  flow: DEFAULT_FLOW_OPTIONS,
  http: DEFAULT_HTTP_OPTIONS,
};

export interface Collector extends FrameSink {
  /** End of input: flush every connection. `tsUs` is the last packet time seen (or 0). */
  finish(): void;
  /** Packet time of the first and last frame seen, or -1. */
  readonly firstUs: number;
  readonly lastUs: number;
  readonly openFlows: number;
  /** Estimated bytes of all open flows' state (bounded by flow.maxStateBytes). */
  readonly flowStateBytes: number;
  /** Bytes held out of order by reassembly, all flows (bounded by flow.maxTotalBufferedBytes). */
  readonly bufferedBytes: number;
}

export function createCollector(
  opts: CollectorOptions,
  emit: (ex: Exchange) => void,
  counters: Counters,
  emitTls?: TlsEmitter,
): Collector {
  const decoder = createDecoder(
    { vxlanPorts: opts.vxlanPorts, ...(opts.genevePorts !== undefined ? { genevePorts: opts.genevePorts } : {}) },
    counters,
  );
  const view = decoder.view;
  const tlsOpts = opts.tls ?? DEFAULT_TLS_OPTIONS;
  const tlsBudget = createTlsBudget(tlsOpts.maxTotalHandshakeBytes);
  const table = createFlowTable(
    // Held client bytes must stay below what could overflow the HTTP layer's pipeline bound.
    {
      ...opts.flow,
      holdClientBytes: Math.min(
        opts.flow.holdClientBytes ?? HOLD_CLIENT_BYTES,
        holdBytesFor(opts.http.maxPendingRequests),
      ),
    },
    emitTls === undefined
      ? (meta) => createHttpConnection(meta, opts.http, emit, counters)
      : (meta) =>
          withTls(meta, createHttpConnection(meta, opts.http, emit, counters), tlsOpts, emitTls, counters, tlsBudget),
    counters,
  );
  let firstUs = -1;
  let lastUs = -1;

  return {
    get firstUs() {
      return firstUs;
    },
    get lastUs() {
      return lastUs;
    },
    get openFlows() {
      return table.size;
    },
    get flowStateBytes() {
      return table.stateBytes;
    },
    get bufferedBytes() {
      return table.bufferedBytes;
    },
    onFrame(frame: Buffer, linkType: number, tsUs: number, wireLen: number): void {
      counters.inc('packets');
      counters.inc('bytes', wireLen);
      if (firstUs < 0) firstUs = tsUs;
      // Packet time only moves forward for expiry purposes; a capture with a clock step back keeps
      // its last high-water mark so flows are not expired twice.
      if (tsUs > lastUs) lastUs = tsUs;
      if (frame.length < wireLen) counters.inc('packets_truncated');
      // Anything but OK was counted by the decoder under exactly one not-analysed reason (reasons.ts).
      const status = decoder.decode(frame, linkType, tsUs, wireLen);
      if (status !== DecodeStatus.OK) return;
      counters.inc('tcp_packets');
      table.packet(view);
    },
    finish(): void {
      table.finish(lastUs < 0 ? 0 : lastUs);
    },
  };
}
