// Behaviour detectors: findings about what one actor did, over all of its traffic.
//
// Input: actor events (event.ts) of every host, and a resolver from an event's provisional path to
// the endpoint's final template (the analysis' pathMap, or the store's endpoint_paths table). The
// detectors sort the events by (packet time, exchange id) themselves, so the output is a pure
// function of the set of events: a replay on one thread, `replay --workers N` (events merged from the
// shards) and the analyzer group's periodic job over the store give byte-identical findings.
//
// Windows are packet time. Evidence holds counts only (never a value: events carry truncated keyed
// hashes). Finding ids hash the kind, the actor id and the discriminating key (endpoint, parameter),
// so a finding keeps its id while its counts grow.
//
// Detectors (defaults in BEHAVIOUR_DEFAULTS; README "Actors and behaviour"):
// - enumeration: one actor, one identifier parameter (a templated path segment, or an identifier-like
//   query parameter) of one endpoint, ≥ distinctValues distinct values within windowSeconds.
// - bola_suspect: one principal gets 2xx on ≥ minObjects objects the traffic binds to other
//   principals: (path) the object lies under another principal's own path (`/users/{B}/orders/{o}`,
//   where the segment's keyed hash equals B's principal hash); (created) another principal created it
//   (POST 2xx: Location or 201 body id); (first_and_mostly) another principal accessed it first and
//   for at least half of its accesses, on an endpoint whose objects are private (leaving the
//   suspect's accesses out, ≥ privateShare of its objects are accessed by one principal only). Only stable principals
//   (JWT sub / client, Basic user, API key): opaque session tokens change at every login.
// - excessive_usage: per endpoint, an actor whose requests per bucket exceed
//   max(minPerBucket, median + k·MAD of the other actors' peak buckets) in ≥ sustainBuckets buckets.
// - auth_bruteforce: one client IP with ≥ failures failed authentications (4xx of a sign-in call;
//   401/403 elsewhere, once per credential and endpoint: a client polling with an expired token
//   repeats one refused call, it does not try credentials) within windowSeconds, or
//   ≥ distinctPrincipals distinct principals / login names among its failures there (credential
//   stuffing, password spraying).
// - pii_harvest: per endpoint, an actor that received ≥ max(minDistinct, median + k·MAD of the other
//   actors') distinct personal-data values (distinct keyed hashes).
import type { ActorSummary } from '../../engine/contracts/actors.js';
import { createHash } from 'node:crypto';
import type { ActorRef, Finding, Severity } from '../../engine/contracts/inventory.js';
import { isoFromUs } from '../../engine/contracts/inventory.js';
import { isPublicAuthCall } from '../risks/findings.js';
import type { ActorEvent } from './event.js';
import { actorIdOf, VALUE_HASH_HEX } from './identity.js';

export interface BehaviourSettings {
  enumeration: { distinctValues: number; windowSeconds: number };
  bola: { minObjects: number; privateShare: number; minPrivateObjects: number };
  excessive: { bucketSeconds: number; minPerBucket: number; k: number; sustainBuckets: number; minActors: number };
  bruteforce: { failures: number; distinctPrincipals: number; windowSeconds: number };
  harvest: { minDistinct: number; k: number; minActors: number };
}

export const BEHAVIOUR_DEFAULTS: BehaviourSettings = {
  enumeration: { distinctValues: 50, windowSeconds: 300 },
  bola: { minObjects: 3, privateShare: 0.9, minPrivateObjects: 5 },
  excessive: { bucketSeconds: 10, minPerBucket: 50, k: 8, sustainBuckets: 3, minActors: 3 },
  bruteforce: { failures: 20, distinctPrincipals: 10, windowSeconds: 300 },
  harvest: { minDistinct: 50, k: 8, minActors: 3 },
};

/** State bounds of the detectors (each overflow counted in actors_detector_capped). */
export const DETECTOR_LIMITS = {
  /** Distinct values remembered per (actor, endpoint) for pii_harvest. */
  piiValuesPerKey: 100_000,
  /** Objects remembered per endpoint for bola_suspect. */
  objectsPerEndpoint: 200_000,
} as const;

export type { ActorSummary };

export interface BehaviourResult {
  findings: Finding[];
  /** Every actor, sorted by requests (desc), then id. */
  actors: ActorSummary[];
  capped: number;
}

/** Final template of an event's provisional path. */
export type PathResolver = (host: string, method: string, path: string) => string;

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const round3 = (x: number): number => Math.round(x * 1000) / 1000;
/**
 * Static assets and media segments (HLS `.ts`/`.m4s`, DASH, images): a player or a page fetches many
 * distinct ones by design, so their parameters are no identifiers to enumerate or objects to own.
 */
const STATIC =
  /\.(?:js|mjs|css|map|png|jpe?g|gif|svg|ico|webp|avif|bmp|woff2?|ttf|otf|eot|html?|txt|pdf|mp4|webm|mp3|wasm|ts|m4s|m4a|m4v|aac|m3u8|mpd|vtt|webvtt|cmfv|cmfa)$/i;
const STABLE_KINDS: ReadonlySet<string> = new Set(['jwt_sub', 'jwt_client', 'basic_user', 'api_key']);

function id(kind: string, parts: readonly string[]): string {
  return createHash('sha256')
    .update(`${kind}|${parts.join('|')}`)
    .digest('hex')
    .slice(0, 16);
}

/** Sorts in place by (packet time, exchange id): the one order every detector reads. */
export function sortEvents(events: ActorEvent[]): ActorEvent[] {
  return events.sort((a, b) => a.t - b.t || cmp(a.x, b.x));
}

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const m = n >> 1;
  return n % 2 === 1 ? (sorted[m] as number) : ((sorted[m - 1] as number) + (sorted[m] as number)) / 2;
}

/** Median and median absolute deviation of `values` without the element at `skip` (leave-one-out). */
function robust(values: readonly number[], skip: number): { med: number; mad: number; n: number } {
  const rest = values.filter((_, i) => i !== skip).sort((a, b) => a - b);
  const med = median(rest);
  const dev = rest.map((v) => Math.abs(v - med)).sort((a, b) => a - b);
  return { med, mad: median(dev), n: rest.length };
}

const principalLabel = (kind: string | null): string =>
  kind === 'jwt_sub'
    ? 'JWT subject (signature not verified)'
    : kind === 'jwt_client'
      ? 'JWT client id (signature not verified)'
      : kind === 'basic_user'
        ? 'Basic user'
        : kind === 'api_key'
          ? 'API key'
          : kind === 'session'
            ? 'session token'
            : 'client IP';

interface Ctx {
  events: readonly ActorEvent[];
  /** Final template per event (same index). */
  paths: readonly string[];
  refs: Map<string, ActorRef>;
  s: BehaviourSettings;
  capped: number;
}

function finding(
  kind: Finding['kind'],
  severity: Severity,
  confidence: number,
  actor: ActorRef,
  endpoint: { host: string; method: string; path: string },
  key: readonly string[],
  evidence: string,
  details: Record<string, unknown>,
  firstUs: number,
  lastUs: number,
): Finding {
  return {
    id: id(kind, [actor.id, ...key]),
    kind,
    severity,
    host: endpoint.host,
    method: endpoint.method,
    path: endpoint.path,
    confidence: round3(confidence),
    evidence,
    details: { ...details, window: { start: isoFromUs(firstUs), end: isoFromUs(lastUs) } },
    firstSeen: isoFromUs(firstUs),
    lastSeen: isoFromUs(lastUs),
    actor,
  };
}

/** The endpoint with the most of `counts` (ties: the smallest key). */
function topEndpoint(counts: Map<string, number>): { host: string; method: string; path: string } {
  let best = '';
  let n = -1;
  for (const [k, v] of counts) if (v > n || (v === n && k < best)) [best, n] = [k, v];
  const [host = '', method = '', path = ''] = best.split('\u0000');
  return { host, method, path };
}
const endpointKey = (e: ActorEvent, path: string): string => `${e.host}\u0000${e.method}\u0000${path}`;

// ---------------------------------------------------------------------------------------------

function summarise(ctx: Ctx): ActorSummary[] {
  const acc = new Map<
    string,
    { sum: ActorSummary; ips: Map<string, number>; eps: Set<string>; pii: Set<string> | null }
  >();
  ctx.events.forEach((e, i) => {
    let a = acc.get(e.actorId);
    if (a === undefined) {
      a = {
        sum: {
          id: e.actorId,
          ip: '',
          principal: e.principal === '' ? null : e.principal,
          principalKind: e.principalKind === '' ? null : e.principalKind,
          principalHash: e.principalHash,
          requests: 0,
          endpoints: 0,
          errors4xx: 0,
          errors5xx: 0,
          piiValues: 0,
          firstUs: e.t,
          lastUs: e.t,
        },
        ips: new Map(),
        eps: new Set(),
        pii: new Set(),
      };
      acc.set(e.actorId, a);
    }
    const s = a.sum;
    s.requests++;
    if (e.t < s.firstUs) s.firstUs = e.t;
    if (e.t > s.lastUs) s.lastUs = e.t;
    if (e.status !== null && e.status >= 400 && e.status < 500) s.errors4xx++;
    if (e.status !== null && e.status >= 500) s.errors5xx++;
    a.ips.set(e.clientIp, (a.ips.get(e.clientIp) ?? 0) + 1);
    a.eps.add(endpointKey(e, ctx.paths[i] as string));
    if (a.pii !== null) {
      for (const h of e.piiReceived) a.pii.add(h);
      if (a.pii.size > DETECTOR_LIMITS.piiValuesPerKey) {
        s.piiValues = a.pii.size;
        a.pii = null;
        ctx.capped++;
      }
    }
  });
  const out: ActorSummary[] = [];
  for (const a of acc.values()) {
    let ip = '';
    let n = -1;
    for (const [k, v] of a.ips) if (v > n || (v === n && k < ip)) [ip, n] = [k, v];
    a.sum.ip = ip;
    a.sum.endpoints = a.eps.size;
    if (a.pii !== null) a.sum.piiValues = a.pii.size;
    out.push(a.sum);
    ctx.refs.set(a.sum.id, {
      id: a.sum.id,
      ip,
      principal: a.sum.principal,
      principalKind: a.sum.principalKind,
    });
  }
  return out.sort((a, b) => b.requests - a.requests || cmp(a.id, b.id));
}

/** The actor of a client IP alone (auth_bruteforce is about the IP, whatever credentials it tried). */
function ipActor(ip: string): ActorRef {
  return { id: actorIdOf(ip, '', ''), ip, principal: null, principalKind: null };
}

// ---------------------------------------------------------------------------------------------

/** Template parameter positions of a final path ("/users/{id}/orders/{orderId}" → [1, 3]). */
function paramPositions(path: string, cache: Map<string, number[]>): number[] {
  let p = cache.get(path);
  if (p === undefined) {
    p = [];
    const segs = path.split('/').filter((s) => s !== '');
    const last = segs[segs.length - 1] ?? '';
    if (!STATIC.test(last)) segs.forEach((s, i) => s.startsWith('{') && (p as number[]).push(i));
    cache.set(path, p);
  }
  return p;
}

/** Path values at the given positions ("p<i>:<hash>" entries), in position order; undefined where absent. */
function pathValues(e: ActorEvent, positions: readonly number[]): (string | undefined)[] {
  return positions.map((i) => {
    const pre = `p${i}:`;
    const v = e.idValues.find((x) => x.startsWith(pre));
    return v === undefined ? undefined : v.slice(pre.length);
  });
}

function enumeration(ctx: Ctx, tpl: Map<string, number[]>): Finding[] {
  const { distinctValues, windowSeconds } = ctx.s.enumeration;
  const win = windowSeconds * 1_000_000;
  const series = new Map<string, { idx: number; value: string }[]>();
  const push = (k: string, idx: number, value: string): void => {
    const l = series.get(k);
    if (l) l.push({ idx, value });
    else series.set(k, [{ idx, value }]);
  };
  ctx.events.forEach((e, i) => {
    const path = ctx.paths[i] as string;
    const pos = paramPositions(path, tpl);
    const base = `${e.actorId}\u0001${endpointKey(e, path)}\u0001`;
    const vals = pathValues(e, pos);
    pos.forEach((p, j) => {
      const v = vals[j];
      if (v !== undefined) push(`${base}p${p}`, i, v);
    });
    for (const q of e.idValues) {
      if (!q.startsWith('q:')) continue;
      const cut = q.lastIndexOf(':');
      push(`${base}${q.slice(0, cut)}`, i, q.slice(cut + 1));
    }
  });
  const out: Finding[] = [];
  for (const [key, list] of series) {
    if (list.length < distinctValues) continue;
    const counts = new Map<string, number>();
    let left = 0;
    let best = { distinct: 0, from: 0, to: 0 };
    for (let right = 0; right < list.length; right++) {
      const r = list[right] as { idx: number; value: string };
      const tr = (ctx.events[r.idx] as ActorEvent).t;
      counts.set(r.value, (counts.get(r.value) ?? 0) + 1);
      while (tr - (ctx.events[(list[left] as { idx: number }).idx] as ActorEvent).t > win) {
        const l = list[left] as { value: string };
        const c = (counts.get(l.value) ?? 1) - 1;
        if (c === 0) counts.delete(l.value);
        else counts.set(l.value, c);
        left++;
      }
      if (counts.size > best.distinct) best = { distinct: counts.size, from: left, to: right };
    }
    if (best.distinct < distinctValues) continue;
    let n404 = 0;
    let n403 = 0;
    let n2xx = 0;
    for (let k = best.from; k <= best.to; k++) {
      const st = (ctx.events[(list[k] as { idx: number }).idx] as ActorEvent).status;
      if (st === 404) n404++;
      else if (st === 403) n403++;
      else if (st !== null && st >= 200 && st < 300) n2xx++;
    }
    const [actorId = '', ep = '', param = ''] = key.split('\u0001');
    const [host = '', method = '', path = ''] = ep.split('\u0000');
    const first = ctx.events[(list[best.from] as { idx: number }).idx] as ActorEvent;
    const last = ctx.events[(list[best.to] as { idx: number }).idx] as ActorEvent;
    const requests = best.to - best.from + 1;
    const missShare = round3((n404 + n403) / requests);
    const segs = path.split('/').filter((s) => s !== '');
    const paramName = param.startsWith('p') ? (segs[Number(param.slice(1))] ?? param) : `?${param.slice(2)}`;
    const actor = ctx.refs.get(actorId) as ActorRef;
    out.push(
      finding(
        'enumeration',
        missShare >= 0.5 || best.distinct >= distinctValues * 4 ? 'high' : 'medium',
        Math.min(0.95, 0.6 + 0.1 * Math.log2(best.distinct / distinctValues + 1) + 0.2 * missShare),
        actor,
        { host, method, path },
        [host, method, path, param],
        `${principalLabel(actor.principalKind)} requested ${best.distinct} distinct values of ${paramName} in ` +
          `${Math.round((last.t - first.t) / 1e6)} s (${requests} requests; ${n404} answered 404, ${n403} answered 403)`,
        {
          parameter: paramName,
          distinctValues: best.distinct,
          requests,
          status2xx: n2xx,
          status404: n404,
          status403: n403,
          notFoundOrForbiddenShare: missShare,
          threshold: { distinctValues, windowSeconds },
        },
        first.t,
        last.t,
      ),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

interface Access {
  principal: string; // principal hash
  t: number;
}

function bola(ctx: Ctx, tpl: Map<string, number[]>): Finding[] {
  const { minObjects, privateShare, minPrivateObjects } = ctx.s.bola;
  // Known stable principals by the short form of their hash (what a path segment's hash equals).
  const known = new Map<string, string>();
  const actorOf = new Map<string, string>();
  for (const e of ctx.events) {
    if (!STABLE_KINDS.has(e.principalKind)) continue;
    known.set(e.principalHash.slice(0, VALUE_HASH_HEX), e.principalHash);
    actorOf.set(e.principalHash, e.actorId);
  }
  if (known.size < 2) return [];
  // Objects created by a principal (first creation wins).
  const createdBy = new Map<string, { principal: string; t: number }>();
  for (const e of ctx.events) {
    if (e.createdHash !== '' && STABLE_KINDS.has(e.principalKind) && !createdBy.has(e.createdHash))
      createdBy.set(e.createdHash, { principal: e.principalHash, t: e.t });
  }
  // Accesses per object (endpoint path without method + last parameter value), per endpoint.
  const objects = new Map<string, Map<string, Access[]>>();
  interface Cand {
    e: ActorEvent;
    idx: number;
    binding: 'path' | 'created' | 'first_and_mostly';
    owner: string;
    object: string;
    ep: string;
  }
  const cands: Cand[] = [];
  ctx.events.forEach((e, i) => {
    if (!STABLE_KINDS.has(e.principalKind)) return;
    if (e.status === null || e.status < 200 || e.status > 299) return;
    const path = ctx.paths[i] as string;
    const pos = paramPositions(path, tpl);
    if (pos.length === 0) return;
    const vals = pathValues(e, pos);
    const segs = path.split('/').filter((s) => s !== '');
    const ep = `${e.host}\u0000${path}`;
    // (path) a parameter equal to another principal, with a literal segment after it.
    for (let j = 0; j < pos.length; j++) {
      const v = vals[j];
      const owner = v === undefined ? undefined : known.get(v);
      if (owner === undefined) continue;
      if (owner === e.principalHash) return; // the principal's own resource
      const at = pos[j] as number;
      if (!segs.slice(at + 1).some((s) => !s.startsWith('{'))) continue;
      cands.push({ e, idx: i, binding: 'path', owner, object: `${ep}\u0000${vals.join('/')}`, ep });
      return;
    }
    const last = vals[vals.length - 1];
    if (last === undefined) return;
    const object = `${ep}\u0000${last}`;
    const c = createdBy.get(last);
    if (c !== undefined) {
      if (c.principal !== e.principalHash && c.t <= e.t)
        cands.push({ e, idx: i, binding: 'created', owner: c.principal, object, ep });
      if (c.principal !== e.principalHash || c.t <= e.t) return;
    }
    let m = objects.get(ep);
    if (m === undefined) objects.set(ep, (m = new Map()));
    let acc = m.get(object);
    if (acc === undefined) {
      if (m.size >= DETECTOR_LIMITS.objectsPerEndpoint) {
        ctx.capped++;
        return;
      }
      m.set(object, (acc = []));
    }
    acc.push({ principal: e.principalHash, t: e.t });
    cands.push({ e, idx: i, binding: 'first_and_mostly', owner: '', object, ep });
  });
  // Endpoint privacy apart from principal P: of the objects others accessed, the share one principal alone accessed.
  const privacy = new Map<string, boolean>();
  const isPrivate = (ep: string, p: string): boolean => {
    const k = `${ep}\u0001${p}`;
    let v = privacy.get(k);
    if (v === undefined) {
      let single = 0;
      let total = 0;
      for (const acc of objects.get(ep)?.values() ?? []) {
        let first: string | null = null;
        let one = true;
        for (const a of acc) {
          if (a.principal === p) continue;
          if (first === null) first = a.principal;
          else if (a.principal !== first) one = false;
        }
        if (first === null) continue;
        total++;
        if (one) single++;
      }
      v = total >= minPrivateObjects && single >= privateShare * total;
      privacy.set(k, v);
    }
    return v;
  };
  const perPrincipal = new Map<string, Map<string, Cand>>();
  for (const c of cands) {
    let owner = c.owner;
    if (c.binding === 'first_and_mostly') {
      const acc = objects.get(c.ep)?.get(c.object);
      if (acc === undefined) continue;
      const first = (acc[0] as Access).principal;
      if (first === c.e.principalHash) continue;
      const byOwner = acc.filter((a) => a.principal === first).length;
      if (byOwner * 2 < acc.length || !isPrivate(c.ep, c.e.principalHash)) continue;
      owner = first;
    }
    let m = perPrincipal.get(c.e.principalHash);
    if (m === undefined) perPrincipal.set(c.e.principalHash, (m = new Map()));
    if (!m.has(c.object)) m.set(c.object, { ...c, owner });
  }
  const out: Finding[] = [];
  for (const [p, m] of perPrincipal) {
    if (m.size < minObjects) continue;
    const list = [...m.values()].sort((a, b) => a.e.t - b.e.t || cmp(a.e.x, b.e.x));
    const owners = new Set(list.map((c) => c.owner));
    const bindings = { path: 0, created: 0, first_and_mostly: 0 };
    const eps = new Map<string, number>();
    for (const c of list) {
      bindings[c.binding]++;
      const k = endpointKey(c.e, ctx.paths[c.idx] as string);
      eps.set(k, (eps.get(k) ?? 0) + 1);
    }
    const actor = ctx.refs.get(actorOf.get(p) as string) as ActorRef;
    const first = list[0] as Cand;
    const last = list[list.length - 1] as Cand;
    const strong = bindings.path + bindings.created;
    const endpoints = [...eps]
      .sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]))
      .slice(0, 5)
      .map(([k, n]) => {
        const [, method = '', path = ''] = k.split('\u0000');
        return { endpoint: `${method} ${path}`, objects: n };
      });
    out.push(
      finding(
        'bola_suspect',
        strong >= minObjects ? 'critical' : 'high',
        Math.min(0.95, 0.5 + (0.4 * strong) / m.size + 0.02 * m.size),
        actor,
        topEndpoint(eps),
        [],
        `${principalLabel(actor.principalKind)} got 2xx on ${m.size} objects bound to ${owners.size} other ` +
          `principal(s): ${bindings.path} under their own path, ${bindings.created} created by them, ` +
          `${bindings.first_and_mostly} first and mostly accessed by them`,
        {
          objects: m.size,
          owners: owners.size,
          binding: bindings,
          explain:
            'path: the object lies under another principal’s own resource path (/users/{B}/…, the segment equals B); ' +
            'created: another principal created it (POST 2xx, Location or 201 body id); ' +
            'first_and_mostly: another principal accessed it first and for at least half of its accesses, on an ' +
            'endpoint whose objects are otherwise accessed by one principal each',
          endpoints,
          threshold: { minObjects },
        },
        first.e.t,
        last.e.t,
      ),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function excessive(ctx: Ctx): Finding[] {
  const { bucketSeconds, minPerBucket, k, sustainBuckets, minActors } = ctx.s.excessive;
  const bucketUs = bucketSeconds * 1_000_000;
  // endpoint → actor → bucket → count
  const per = new Map<string, Map<string, Map<number, number>>>();
  ctx.events.forEach((e, i) => {
    const ep = endpointKey(e, ctx.paths[i] as string);
    let m = per.get(ep);
    if (m === undefined) per.set(ep, (m = new Map()));
    let b = m.get(e.actorId);
    if (b === undefined) m.set(e.actorId, (b = new Map()));
    const bucket = Math.floor(e.t / bucketUs);
    b.set(bucket, (b.get(bucket) ?? 0) + 1);
  });
  const out: Finding[] = [];
  for (const [ep, actors] of per) {
    if (actors.size < minActors) continue;
    const ids = [...actors.keys()].sort(cmp);
    const peaks = ids.map((a) => Math.max(...(actors.get(a) as Map<number, number>).values()));
    ids.forEach((a, i) => {
      if ((peaks[i] as number) <= minPerBucket) return;
      const { med, mad } = robust(peaks, i);
      const threshold = Math.max(minPerBucket, med + k * Math.max(mad, 1));
      const over = [...(actors.get(a) as Map<number, number>)]
        .filter(([, n]) => n > threshold)
        .sort((x, y) => x[0] - y[0]);
      if (over.length < sustainBuckets) return;
      const [host = '', method = '', path = ''] = ep.split('\u0000');
      const total = over.reduce((s, [, n]) => s + n, 0);
      const actor = ctx.refs.get(a) as ActorRef;
      const firstUs = (over[0] as [number, number])[0] * bucketUs;
      const lastUs = ((over[over.length - 1] as [number, number])[0] + 1) * bucketUs - 1;
      out.push(
        finding(
          'excessive_usage',
          (peaks[i] as number) >= threshold * 10 ? 'high' : 'medium',
          Math.min(0.95, 0.6 + 0.05 * over.length),
          actor,
          { host, method, path },
          [host, method, path],
          `${principalLabel(actor.principalKind)} sent up to ${peaks[i]} requests per ${bucketSeconds} s ` +
            `(${over.length} buckets above ${Math.ceil(threshold)}; other actors' median peak ${med})`,
          {
            peakPerBucket: peaks[i],
            bucketsOver: over.length,
            requestsOver: total,
            baseline: { medianPeak: med, mad, actors: ids.length - 1 },
            threshold: Math.ceil(threshold),
            settings: { bucketSeconds, minPerBucket, k, sustainBuckets },
          },
          firstUs,
          lastUs,
        ),
      );
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function bruteforce(ctx: Ctx): Finding[] {
  const { failures, distinctPrincipals, windowSeconds } = ctx.s.bruteforce;
  const win = windowSeconds * 1_000_000;
  const fails = new Map<string, number[]>();
  const logins = new Map<string, number[]>();
  /** (IP, credential, endpoint) of refused calls seen: a repeat is a stale token, not a new attempt. */
  const refused = new Set<string>();
  ctx.events.forEach((e, i) => {
    const st = e.status;
    if (st === null) return;
    const path = ctx.paths[i] as string;
    const signIn = e.loginHash !== '' || (e.method === 'POST' && isPublicAuthCall(path));
    if (!signIn && (st === 401 || st === 403)) {
      const k = `${e.clientIp}\u0000${e.principalHash}\u0000${endpointKey(e, path)}`;
      if (refused.has(k)) return;
      refused.add(k);
    }
    if (st === 401 || st === 403 || (signIn && st >= 400 && st < 500)) {
      const l = fails.get(e.clientIp);
      if (l) l.push(i);
      else fails.set(e.clientIp, [i]);
    } else if (signIn && st >= 200 && st < 400) {
      const l = logins.get(e.clientIp);
      if (l) l.push(i);
      else logins.set(e.clientIp, [i]);
    }
  });
  const out: Finding[] = [];
  const nameOf = (e: ActorEvent): string =>
    e.loginHash !== '' ? `l:${e.loginHash}` : e.principalHash !== '' ? `p:${e.principalHash}` : '';
  for (const [ip, list] of fails) {
    const names = new Map<string, number>();
    let left = 0;
    let best = { score: 0, n: 0, names: 0, from: 0, to: 0 };
    for (let right = 0; right < list.length; right++) {
      const er = ctx.events[list[right] as number] as ActorEvent;
      const nr = nameOf(er);
      if (nr !== '') names.set(nr, (names.get(nr) ?? 0) + 1);
      while (er.t - (ctx.events[list[left] as number] as ActorEvent).t > win) {
        const nl = nameOf(ctx.events[list[left] as number] as ActorEvent);
        if (nl !== '') {
          const c = (names.get(nl) ?? 1) - 1;
          if (c === 0) names.delete(nl);
          else names.set(nl, c);
        }
        left++;
      }
      const n = right - left + 1;
      // Score: how far past either threshold the window is.
      const score = Math.max(n / failures, names.size / distinctPrincipals);
      if (score > best.score) best = { score, n, names: names.size, from: left, to: right };
    }
    if (best.score < 1) continue;
    const eps = new Map<string, number>();
    const status = { s401: 0, s403: 0, other4xx: 0 };
    for (let k = best.from; k <= best.to; k++) {
      const idx = list[k] as number;
      const e = ctx.events[idx] as ActorEvent;
      const key = endpointKey(e, ctx.paths[idx] as string);
      eps.set(key, (eps.get(key) ?? 0) + 1);
      if (e.status === 401) status.s401++;
      else if (e.status === 403) status.s403++;
      else status.other4xx++;
    }
    const first = ctx.events[list[best.from] as number] as ActorEvent;
    const last = ctx.events[list[best.to] as number] as ActorEvent;
    const ok = (logins.get(ip) ?? []).filter((i) => {
      const t = (ctx.events[i] as ActorEvent).t;
      return t >= first.t && t <= last.t + win;
    }).length;
    const stuffing = best.names >= distinctPrincipals;
    out.push(
      finding(
        'auth_bruteforce',
        stuffing && ok > 0 ? 'critical' : 'high',
        Math.min(0.95, 0.6 + 0.1 * Math.log2(best.score + 1)),
        ipActor(ip),
        topEndpoint(eps),
        [],
        `client IP had ${best.n} failed authentications in ${Math.round((last.t - first.t) / 1e6)} s with ` +
          `${best.names} distinct principals or login names` +
          (stuffing ? ' (credential stuffing)' : '') +
          (ok > 0 ? `; ${ok} sign-ins from it succeeded` : ''),
        {
          pattern: stuffing ? 'credential_stuffing' : 'brute_force',
          failures: best.n,
          distinctPrincipals: best.names,
          status401: status.s401,
          status403: status.s403,
          other4xx: status.other4xx,
          successfulSignIns: ok,
          endpoints: eps.size,
          threshold: { failures, distinctPrincipals, windowSeconds },
        },
        first.t,
        last.t,
      ),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function harvest(ctx: Ctx): Finding[] {
  const { minDistinct, k, minActors } = ctx.s.harvest;
  const per = new Map<string, Map<string, { values: Set<string>; first: number; last: number; n: number }>>();
  const actorsOn = new Map<string, Set<string>>();
  ctx.events.forEach((e, i) => {
    const ep = endpointKey(e, ctx.paths[i] as string);
    let on = actorsOn.get(ep);
    if (on === undefined) actorsOn.set(ep, (on = new Set()));
    on.add(e.actorId);
    if (e.piiReceived.length === 0) return;
    let m = per.get(ep);
    if (m === undefined) per.set(ep, (m = new Map()));
    let a = m.get(e.actorId);
    if (a === undefined) m.set(e.actorId, (a = { values: new Set(), first: e.t, last: e.t, n: 0 }));
    a.last = e.t;
    a.n++;
    for (const h of e.piiReceived) {
      if (a.values.size >= DETECTOR_LIMITS.piiValuesPerKey) {
        ctx.capped++;
        break;
      }
      a.values.add(h);
    }
  });
  const out: Finding[] = [];
  for (const [ep, m] of per) {
    const all = [...(actorsOn.get(ep) ?? [])].sort(cmp);
    if (all.length < minActors) continue;
    const counts = all.map((a) => m.get(a)?.values.size ?? 0);
    all.forEach((a, i) => {
      const n = counts[i] as number;
      if (n < minDistinct) return;
      const { med, mad } = robust(counts, i);
      const threshold = Math.max(minDistinct, med + k * Math.max(mad, 1));
      if (n < threshold) return;
      const st = m.get(a) as { first: number; last: number; n: number };
      const [host = '', method = '', path = ''] = ep.split('\u0000');
      const actor = ctx.refs.get(a) as ActorRef;
      out.push(
        finding(
          'pii_harvest',
          n >= threshold * 10 ? 'critical' : 'high',
          Math.min(0.95, 0.6 + 0.1 * Math.log2(n / threshold + 1)),
          actor,
          { host, method, path },
          [host, method, path],
          `${principalLabel(actor.principalKind)} received ${n} distinct personal-data values from this endpoint ` +
            `in ${st.n} responses; the other ${all.length - 1} actors' median is ${med}`,
          {
            distinctValues: n,
            responses: st.n,
            baseline: { median: med, mad, actors: all.length - 1 },
            threshold: Math.ceil(threshold),
            settings: { minDistinct, k },
          },
          st.first,
          st.last,
        ),
      );
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

/**
 * Every behaviour finding and the actor summaries of a set of events. `events` is sorted in place
 * (sortEvents). Findings are unsorted (the caller sorts the union of all findings).
 */
export function detectBehaviour(
  events: ActorEvent[],
  resolve: PathResolver,
  settings: BehaviourSettings = BEHAVIOUR_DEFAULTS,
): BehaviourResult {
  sortEvents(events);
  const memo = new Map<string, string>();
  const paths = events.map((e) => {
    const k = `${e.host}\u0000${e.method}\u0000${e.path}`;
    let p = memo.get(k);
    if (p === undefined) memo.set(k, (p = resolve(e.host, e.method, e.path)));
    return p;
  });
  const ctx: Ctx = { events, paths, refs: new Map(), s: settings, capped: 0 };
  const actors = summarise(ctx);
  const tpl = new Map<string, number[]>();
  const findings = [
    ...enumeration(ctx, tpl),
    ...bola(ctx, tpl),
    ...excessive(ctx),
    ...bruteforce(ctx),
    ...harvest(ctx),
  ];
  return { findings, actors, capped: ctx.capped };
}

/** A resolver over path mappings (analysis.pathMap() or the store's endpoint_paths); unknown paths stay. */
export function resolverOf(
  map: readonly { host: string; method: string; rawPath: string; path: string }[],
): PathResolver {
  const m = new Map<string, string>();
  for (const r of map) m.set(`${r.host}\u0000${r.method}\u0000${r.rawPath}`, r.path);
  return (host, method, path) => m.get(`${host}\u0000${method}\u0000${path}`) ?? path;
}
