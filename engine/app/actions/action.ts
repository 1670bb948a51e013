// action/v1: what a remediation receiver (webhook, Kafka topic apitap.actions) gets for one finding.
//
// One action per finding id: the finding id is the action's id and its idempotency key (a receiver
// keeps the ids it has applied and ignores a repeat). The body holds no wall-clock time: the same
// finding state gives byte-identical bodies, so a redelivery after a retry or a restart is
// recognisable as the same action. Nothing here holds a raw personal value or secret: the actor's
// principal is its masked form (the keyed hash is the actor id), the evidence is the finding's
// redacted summary plus its numeric details only.
import { z } from 'zod';
import {
  ActorRef,
  FindingKind,
  Severity,
  type ActorRef as ActorRefT,
  type Finding,
  type FindingKind as FindingKindT,
} from '../../contracts/inventory.js';
import { isIP } from 'node:net';

export const ACTION_SCHEMA = 'action/v1' as const;

export const SUGGESTED_ACTIONS = ['block_ip', 'revoke_credential', 'throttle', 'investigate'] as const;
export const SuggestedAction = z.enum(SUGGESTED_ACTIONS);
export type SuggestedAction = z.infer<typeof SuggestedAction>;

/** What the suggested action applies to. */
export const ActionTarget = z.discriminatedUnion('type', [
  /** block_ip, throttle by address: the actor's TCP peer address (raw: --actor-ip hash makes it unusable). */
  z.object({ type: z.literal('ip'), ip: z.string() }),
  /** revoke_credential, throttle by identity: the masked principal and the actor id (keyed hash). */
  z.object({
    type: z.literal('principal'),
    actorId: z.string(),
    principal: z.string(),
    principalKind: z.string().nullable(),
  }),
  /** investigate: the endpoint the finding is about. */
  z.object({ type: z.literal('endpoint'), host: z.string(), method: z.string(), path: z.string() }),
]);
export type ActionTarget = z.infer<typeof ActionTarget>;

/** Longest evidence summary carried (characters); the finding keeps the whole text. */
export const EVIDENCE_MAX_CHARS = 500;

export const Action = z
  .object({
    schema: z.literal(ACTION_SCHEMA),
    /** The finding id: deterministic, the idempotency key. */
    id: z.string().min(1),
    kind: FindingKind,
    severity: Severity,
    confidence: z.number().min(0).max(1),
    suggestedAction: SuggestedAction,
    /** Which rule of the mapping chose the action (README, "Actions"). */
    reason: z.string(),
    target: ActionTarget,
    /** Behaviour findings: who the finding is about; null for findings about an endpoint. */
    actor: ActorRef.nullable(),
    endpoint: z.object({ host: z.string(), method: z.string(), path: z.string() }),
    /** Packet time of the first and last evidence (ISO-8601, UTC), null when unknown. */
    window: z.object({ start: z.string().nullable(), end: z.string().nullable() }),
    evidence: z.object({
      /** The finding's redacted evidence, cut at EVIDENCE_MAX_CHARS. */
      summary: z.string().max(EVIDENCE_MAX_CHARS + 1),
      /** The finding's numeric details (counts, shares), never values. */
      counts: z.record(z.string(), z.number()),
    }),
  })
  .strict();
export type Action = z.infer<typeof Action>;

/**
 * The mapping, per finding kind: suggested actions in order of preference. The first one whose
 * requirement the finding's actor meets is chosen; `investigate` needs nothing, so it ends every list.
 * - block_ip needs a raw IP address (not `hmac:` from --actor-ip hash);
 * - revoke_credential needs a principal (a credential was seen);
 * - throttle needs a principal (throttled by identity) or else a raw IP.
 * Kinds not listed (endpoint findings: shadow/zombie APIs, PII exposure, TLS...) map to investigate.
 */
export const ACTION_PREFERENCES: Partial<Record<FindingKindT, readonly SuggestedAction[]>> = {
  // The address is the attacker; the principals it presents are its victims.
  auth_bruteforce: ['block_ip', 'throttle', 'investigate'],
  // An identity that reads others' objects, walks ids or harvests personal data: its credential goes.
  bola_suspect: ['revoke_credential', 'block_ip', 'investigate'],
  enumeration: ['revoke_credential', 'block_ip', 'investigate'],
  pii_harvest: ['revoke_credential', 'block_ip', 'investigate'],
  // Legitimate callers can overuse: slow them down, do not cut them off.
  excessive_usage: ['throttle', 'investigate'],
  // A credential seen in clear text is compromised: rotate it when the finding names whose it is.
  cleartext_credentials: ['revoke_credential', 'investigate'],
};

const DEFAULT_PREFERENCES: readonly SuggestedAction[] = ['investigate'];

const rawIp = (a: ActorRefT | undefined): string | null => (a !== undefined && isIP(a.ip) !== 0 ? a.ip : null);

/** The suggested action of a finding, its target and the rule that chose it. */
export function suggest(f: Finding): { action: SuggestedAction; target: ActionTarget; reason: string } {
  const prefs = ACTION_PREFERENCES[f.kind] ?? DEFAULT_PREFERENCES;
  const a = f.actor;
  const ip = rawIp(a);
  const principal =
    a !== undefined && a.principal !== null && a.principal !== ''
      ? { type: 'principal' as const, actorId: a.id, principal: a.principal, principalKind: a.principalKind }
      : null;
  for (const p of prefs) {
    if (p === 'block_ip' && ip !== null)
      return { action: p, target: { type: 'ip', ip }, reason: `${f.kind}: actor with a raw IP address` };
    if (p === 'revoke_credential' && principal !== null)
      return { action: p, target: principal, reason: `${f.kind}: actor with a principal` };
    if (p === 'throttle' && principal !== null)
      return { action: p, target: principal, reason: `${f.kind}: actor throttled by principal` };
    if (p === 'throttle' && ip !== null)
      return { action: p, target: { type: 'ip', ip }, reason: `${f.kind}: actor throttled by IP address` };
  }
  const why =
    prefs.length > 1
      ? `${f.kind}: no ${a === undefined ? 'actor' : 'usable IP address or principal'} for ${prefs.slice(0, -1).join('/')}`
      : `${f.kind}: a finding about the endpoint`;
  return {
    action: 'investigate',
    target: { type: 'endpoint', host: f.host, method: f.method, path: f.path },
    reason: why,
  };
}

/** The numeric top-level details of a finding (counts and shares); everything else is left out. */
function counts(details: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(details).sort()) {
    const v = details[k];
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

/** A string field of `details.window` (`start`/`first`, `end`/`last`), or null. */
function detailWindow(details: Record<string, unknown>, keys: readonly string[]): string | null {
  const w = details['window'];
  if (w === null || typeof w !== 'object') return null;
  for (const k of keys) {
    const v = (w as Record<string, unknown>)[k];
    if (typeof v === 'string') return v;
  }
  return null;
}

/** The action/v1 record of a finding. Deterministic: a function of the finding only. */
export function toAction(f: Finding): Action {
  const s = suggest(f);
  return {
    schema: ACTION_SCHEMA,
    id: f.id,
    kind: f.kind,
    severity: f.severity,
    confidence: f.confidence,
    suggestedAction: s.action,
    reason: s.reason,
    target: s.target,
    actor: f.actor ?? null,
    endpoint: { host: f.host, method: f.method, path: f.path },
    // The evidence's packet-time span; a finding without one (an orphan: never seen) gives the
    // observation window its details carry.
    window: {
      start: f.firstSeen ?? detailWindow(f.details, ['start', 'first']),
      end: f.lastSeen ?? detailWindow(f.details, ['end', 'last']),
    },
    evidence: {
      summary: f.evidence.length > EVIDENCE_MAX_CHARS ? f.evidence.slice(0, EVIDENCE_MAX_CHARS) + '…' : f.evidence,
      counts: counts(f.details),
    },
  };
}
