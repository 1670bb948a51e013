// The collector's configuration: every option with its default, its bounds and what it means, declared
// once here (the OpenTelemetry Collector's factory + config pattern). Validated once at start by the
// composition root (engine/app/config); the packet loop reads the plain inferred object.
import { z } from 'zod';
import { DEFAULT_FLOW_OPTIONS } from './flow/table.js';
import { DEFAULT_HTTP_OPTIONS } from './http/types.js';

const MiB = 1024 * 1024;
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const port = int(1, 65535);

export const FlowConfig = z
  .object({
    maxFlows: int(1, 10_000_000)
      .default(DEFAULT_FLOW_OPTIONS.maxFlows)
      .describe('connections tracked at once; beyond it the stalest is ended early (flow_evicted)'),
    idleTimeoutUs: int(1_000_000, 86_400_000_000)
      .default(DEFAULT_FLOW_OPTIONS.idleTimeoutUs)
      .describe('packet-time idle timeout of a connection, microseconds (flow_idle_expired)'),
    maxTotalBufferedBytes: int(MiB, 64 * 1024 * MiB)
      .default(DEFAULT_FLOW_OPTIONS.maxTotalBufferedBytes)
      .describe('out-of-order bytes held across all connections (tcp_ooo_limit beyond)'),
    maxBufferedBytes: int(64 * 1024, 1024 * MiB)
      .default(DEFAULT_FLOW_OPTIONS.maxBufferedBytes)
      .describe('out-of-order bytes held per direction of one connection'),
    maxBufferedSegments: int(16, 1_000_000)
      .default(DEFAULT_FLOW_OPTIONS.maxBufferedSegments)
      .describe('out-of-order segments held per direction of one connection'),
    reorderWindowUs: int(0, 60_000_000)
      .default(DEFAULT_FLOW_OPTIONS.reorderWindowUs)
      .describe('how long (packet time) a hole the peer acknowledged may wait for a late copy'),
    maxStateBytes: int(16 * MiB, 256 * 1024 * MiB)
      .default(DEFAULT_FLOW_OPTIONS.maxStateBytes ?? 256 * MiB)
      .describe("estimated bytes of all flows' state; the stalest flow is ended beyond it (flow_evicted_bytes)"),
  })
  .strict();

export const HttpConfig = z
  .object({
    bodyCaptureBytes: int(0, 64 * MiB)
      .default(DEFAULT_HTTP_OPTIONS.bodyCaptureBytes)
      .describe('decoded body bytes kept per message (the full size is still counted)'),
    maxDecodedBytes: int(0, 1024 * MiB)
      .default(DEFAULT_HTTP_OPTIONS.maxDecodedBytes)
      .describe('bytes content decoding may produce for one body (decompression bomb cap)'),
    maxHeaderBytes: int(1024, 16 * MiB)
      .default(DEFAULT_HTTP_OPTIONS.maxHeaderBytes)
      .describe('header section bytes of one message (http_header_overflow beyond)'),
    maxHeaderCount: int(8, 100_000)
      .default(DEFAULT_HTTP_OPTIONS.maxHeaderCount)
      .describe('header lines of one message (http_header_flood beyond)'),
    maxPendingRequests: int(1, 100_000)
      .default(DEFAULT_HTTP_OPTIONS.maxPendingRequests)
      .describe('pipelined requests awaiting responses on one connection (http_pipeline_overflow beyond)'),
    maxEncodedBytes: int(0, 1024 * MiB)
      .default(DEFAULT_HTTP_OPTIONS.maxEncodedBytes ?? MiB)
      .describe('compressed bytes of one body kept for decoding (http_encoded_body_capped beyond)'),
  })
  .strict();

export const CollectorConfig = z
  .object({
    vxlanPorts: z
      .array(port)
      .min(1)
      .max(16)
      .default([4789])
      .describe('UDP destination ports carrying VXLAN (IANA 4789)'),
    genevePorts: z
      .array(port)
      .min(1)
      .max(16)
      .default([6081])
      .describe('UDP destination ports carrying Geneve (IANA 6081; AWS Gateway Load Balancer)'),
    flow: FlowConfig.default(FlowConfig.parse({})),
    http: HttpConfig.default(HttpConfig.parse({})),
  })
  .strict();

export type CollectorConfig = z.infer<typeof CollectorConfig>;
