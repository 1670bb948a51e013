// The exchange/v1 record of one paired (or unpaired) exchange, and its deterministic id.
import type { Exchange, HttpRequest } from '../../engine/contracts/exchange.js';
import { EXCHANGE_SCHEMA } from '../../engine/contracts/exchange.js';
import { shortId } from '../ids.js';
import { emptyBody } from './body.js';
import type { ConnState, Entry, Msg } from './state.js';

/** Deterministic exchange id: first 16 hex digits of sha256(flowId ':' seq) (collectors/ids.ts). */
export function exchangeId(flowId: string, seq: number): string {
  return shortId(`${flowId}:${seq}`);
}

export function buildExchange(c: ConnState, e: Entry): Exchange {
  const anomalies = new Set<string>(e.anomalies ?? undefined);
  let gapBytes = 0;
  let truncated = false;
  let request: Exchange['request'] = null;
  let response: Exchange['response'] = null;
  const rq = e.req;
  const rs = e.res;
  if (rq !== null) {
    if (rq.anomalies !== null) for (const a of rq.anomalies) anomalies.add(a);
    gapBytes += rq.gapBytes;
    truncated ||= rq.truncated;
    request = requestOf(rq);
  }
  if (rs !== null) {
    if (rs.anomalies !== null) for (const a of rs.anomalies) anomalies.add(a);
    gapBytes += rs.gapBytes;
    truncated ||= rs.truncated;
    response = {
      status: rs.head.status,
      reason: rs.head.reason,
      version: rs.head.version,
      headers: rs.head.headers,
      trailers: rs.trailers,
      body: rs.record ?? emptyBody(rs.head.headers, false),
      interim: e.interim,
      startUs: rs.head.startUs,
      endUs: rs.endUs,
    };
  }
  const m = c.meta;
  const client = c.swapped ? m.server : m.client;
  const server = c.swapped ? m.client : m.server;
  const ex: Exchange = {
    schema: EXCHANGE_SCHEMA,
    id: exchangeId(m.flowId, e.seq),
    flowId: m.flowId,
    seq: e.seq,
    vni: m.vni,
    tunnel: m.tunnel === null ? null : { kind: m.tunnel.kind, id: m.tunnel.id },
    client: { ip: client.ip, port: client.port },
    server: { ip: server.ip, port: server.port },
    request,
    response,
    latencyUs: request !== null && response !== null ? response.startUs - request.endUs : null,
    anomalies: [...anomalies].sort(),
    quality: { gapBytes, truncated, oneSided: c.oneSided, midstream: !m.handshake },
    complete: rq !== null && rs !== null && rq.complete && rs.complete,
  };
  // Left out for HTTP/1.x (exchange/v1: absent means 'http'); last key, as in the schema.
  if (e.protocol !== null) ex.protocol = e.protocol;
  return ex;
}

export function requestOf(rq: Msg): HttpRequest {
  return {
    method: rq.head.method,
    target: rq.head.target,
    version: rq.head.version,
    headers: rq.head.headers,
    trailers: rq.trailers,
    body: rq.record ?? emptyBody(rq.head.headers, false),
    startUs: rq.head.startUs,
    endUs: rq.endUs,
  };
}
