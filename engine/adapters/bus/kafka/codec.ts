// exchange/v1 on Kafka, both ways, and the dead-letter record. Decoding bytes (JSON) and applying
// meaning (the Exchange schema) are separate steps, each with its own dead-letter reason.
//
// Wire format:
//   key       apiHost(ex): all exchanges of one API host land on one partition (kafkajs' default
//             partitioner is the Java client's murmur2, so Java/Go producers agree).
//   value     JSON.stringify(ex), UTF-8.
//   headers   schema: exchange/v1
//   timestamp wall clock at publish (kafkajs default), NOT packet time: retention is time based and
//             would delete a replayed old capture at once.
// Dead letters keep key, value and headers of the source record and add `error` (a DLQ_REASONS
// name), `error.detail` (zod paths and issue codes, never values), `source.topic`,
// `source.partition`, `source.offset`.
import type { CounterName } from '../../../contracts/catalogue.js';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { EXCHANGE_SCHEMA, Exchange, apiHost } from '../../../contracts/exchange.js';
import { BUS_COUNTERS, SCHEMA_HEADER } from '../types.js';

/** The headers of every exchange record (one object, shared by all messages of all batches). */
export const EXCHANGE_HEADERS: IHeaders = { [SCHEMA_HEADER]: EXCHANGE_SCHEMA };

/** A serialised exchange: what the publisher buffers. */
export interface EncodedExchange {
  key: string;
  value: Buffer;
}

/** Serialises one exchange (key and value; the headers are EXCHANGE_HEADERS). */
export function encodeExchange(ex: Exchange): EncodedExchange {
  return { key: apiHost(ex), value: Buffer.from(JSON.stringify(ex), 'utf8') };
}

/** Why a message went to the dead-letter topic (the `error` header). Stable names. */
export const DLQ_REASONS = {
  invalidJson: 'invalid_json',
  invalidExchange: 'invalid_exchange',
  schemaMismatch: 'schema_mismatch',
} as const;
export type DlqReason = (typeof DLQ_REASONS)[keyof typeof DLQ_REASONS];

/** The counter of each dead-letter reason (besides the total, BUS_COUNTERS.dlq). */
export const DLQ_COUNTER: Record<DlqReason, CounterName> = {
  invalid_json: BUS_COUNTERS.dlqInvalidJson,
  invalid_exchange: BUS_COUNTERS.dlqInvalidExchange,
  schema_mismatch: BUS_COUNTERS.dlqSchemaMismatch,
};

export interface DeadLetter {
  message: KafkaMessage;
  reason: DlqReason;
  /** Where validation failed: zod paths and issue codes only, never values. */
  detail: string;
}

export type Decoded = { ok: true; ex: Exchange } | { ok: false; reason: DlqReason; detail: string };

/** Decodes one Kafka record into an Exchange. Never throws: a bad record is a permanent failure of
 * that record (it goes to the dead-letter topic), not of the consumer. */
export function decodeExchangeMessage(value: Buffer | null, schemaHeader: string | null): Decoded {
  if (schemaHeader !== null && schemaHeader !== EXCHANGE_SCHEMA) {
    return { ok: false, reason: DLQ_REASONS.schemaMismatch, detail: `schema header is not ${EXCHANGE_SCHEMA}` };
  }
  if (value === null) return { ok: false, reason: DLQ_REASONS.invalidJson, detail: 'null value (tombstone)' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (e) {
    return { ok: false, reason: DLQ_REASONS.invalidJson, detail: (e as Error).name };
  }
  const r = Exchange.safeParse(json);
  if (r.success) return { ok: true, ex: r.data };
  const detail = r.error.issues
    .slice(0, 8)
    .map((i) => `${i.path.join('.') || '<root>'}:${i.code}`)
    .join(',');
  return { ok: false, reason: DLQ_REASONS.invalidExchange, detail: detail.slice(0, 512) };
}

/** The first value of header `name` as a string, null when absent. */
export function headerString(h: IHeaders | undefined, name: string): string | null {
  const v = h?.[name];
  if (v === undefined) return null;
  const one = Array.isArray(v) ? v[0] : v;
  if (one === undefined) return null;
  return typeof one === 'string' ? one : one.toString('utf8');
}

/** The dead-letter record of `d`, read from `topic`/`partition`. */
export function deadLetterMessage(d: DeadLetter, topic: string, partition: number): Message {
  return {
    key: d.message.key,
    value: d.message.value,
    headers: {
      ...(d.message.headers ?? {}),
      error: d.reason,
      'error.detail': d.detail,
      'source.topic': topic,
      'source.partition': String(partition),
      'source.offset': d.message.offset,
    },
  };
}
