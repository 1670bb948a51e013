// Test helpers: build Exchange records by hand (no capture needed). Not used by production code.
import type { Body, Exchange, HeaderPair } from '../engine/contracts/exchange.js';
import { EXCHANGE_SCHEMA } from '../engine/contracts/exchange.js';

export interface ExOpts {
  host?: string;
  headers?: HeaderPair[];
  status?: number | null;
  resHeaders?: HeaderPair[];
  reqJson?: unknown;
  resJson?: unknown;
  /** Request start, µs since epoch (default 1_700_000_000_000_000 + seq * 1000). */
  us?: number;
  latencyUs?: number;
  vni?: number | null;
  quality?: Partial<Exchange['quality']>;
  seq?: number;
  id?: string;
}

function body(json: unknown): Body {
  if (json === undefined) {
    return {
      size: 0,
      decodedSize: null,
      contentType: null,
      contentEncoding: [],
      encoding: 'utf8',
      data: '',
      truncated: false,
      complete: true,
    };
  }
  const data = JSON.stringify(json);
  return {
    size: data.length,
    decodedSize: null,
    contentType: 'application/json',
    contentEncoding: [],
    encoding: 'utf8',
    data,
    truncated: false,
    complete: true,
  };
}

let counter = 0;

/** Restart default sequence numbers (and so default ids and times) at 0. */
export function resetExchangeCounter(): void {
  counter = 0;
}

/** One exchange `METHOD target` (origin-form or absolute-form) with sensible defaults. */
export function ex(method: string, target: string, o: ExOpts = {}): Exchange {
  const seq = o.seq ?? counter++;
  const start = o.us ?? 1_700_000_000_000_000 + seq * 1000;
  const lat = o.latencyUs ?? 2000;
  const status = o.status === undefined ? 200 : o.status;
  const headers: HeaderPair[] = [['Host', o.host ?? 'api.example.com'], ...(o.headers ?? [])];
  const q = { gapBytes: 0, truncated: false, oneSided: false, midstream: false, ...(o.quality ?? {}) };
  return {
    schema: EXCHANGE_SCHEMA,
    id: o.id ?? `ex-${method}-${target}-${seq}`,
    flowId: `flow-${seq}`,
    seq: 0,
    vni: o.vni ?? null,
    tunnel: null,
    client: { ip: '10.0.0.1', port: 40000 },
    server: { ip: '10.0.0.2', port: 80 },
    request: {
      method,
      target,
      version: 'HTTP/1.1',
      headers,
      trailers: [],
      body: body(o.reqJson),
      startUs: start,
      endUs: start + 10,
    },
    response:
      status === null
        ? null
        : {
            status,
            reason: '',
            version: 'HTTP/1.1',
            headers: o.resHeaders ?? [],
            trailers: [],
            body: body(o.resJson),
            interim: [],
            startUs: start + 10 + lat,
            endUs: start + 20 + lat,
          },
    latencyUs: status === null ? null : lat,
    anomalies: [],
    quality: q,
    complete: status !== null,
  };
}
