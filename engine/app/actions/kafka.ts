// The Kafka sink of actions (`analyze`): action/v1 records on `apitap.actions`, key = finding id, so
// all deliveries of one action land on one partition and a compacted topic (cleanup.policy=compact)
// keeps one record per action. Buffering, batching, retries and reconnects are the bus publisher's
// (engine/adapters/bus/kafka/publisher.ts), with the actions_kafka_* counters.
import type { Logger } from 'pino';
import { createKafkaRecordPublisher, type PublisherCounterNames } from '../../adapters/bus/kafka/index.js';
import type { Counters } from '../../contracts/counters.js';
import { ACTION_SCHEMA } from './action.js';
import type { ActionSink } from './webhook.js';

const NAMES: PublisherCounterNames = {
  published: 'actions_kafka_published',
  publishErrors: 'actions_kafka_errors',
  bufferedPeak: 'actions_kafka_buffered_peak',
  bufferedBytesPeak: 'actions_kafka_buffered_bytes_peak',
  droppedBufferFull: 'actions_kafka_dropped_buffer_full',
  droppedTooLarge: 'actions_kafka_dropped_too_large',
  droppedClosed: 'actions_kafka_dropped_closed',
  droppedOnClose: 'actions_kafka_dropped_on_close',
  reconnects: 'actions_kafka_reconnects',
};

interface ActionRecord {
  id: string;
  body: string;
}

export interface KafkaSinkOptions {
  brokers: string[];
  topic: string;
  /** How long close() waits for Kafka to acknowledge what is buffered. */
  graceMs: number;
  counters: Counters;
  logger?: Logger;
  /** Called with each id once Kafka acknowledged it (ledger.ts). */
  settled?: (id: string) => void;
}

export function createKafkaActionSink(o: KafkaSinkOptions): ActionSink {
  const publisher = createKafkaRecordPublisher<ActionRecord>(
    { brokers: o.brokers, topic: o.topic, lingerMs: 5, flushTimeoutMs: Math.max(1, o.graceMs) },
    { counters: o.counters, ...(o.logger !== undefined ? { logger: o.logger } : {}) },
    {
      encode: (r) => ({ key: r.id, value: Buffer.from(r.body, 'utf8') }),
      headers: { schema: ACTION_SCHEMA },
      names: NAMES,
      component: 'actions.kafka',
    },
  );
  // Ids accepted and not yet known to be acknowledged. flush() resolves once everything accepted
  // before it was acknowledged, so the ids taken at its call are settled when it resolves.
  let unsettled: string[] = [];
  let flushing = false;
  const settle = (): void => {
    if (flushing || unsettled.length === 0) return;
    flushing = true;
    const ids = unsettled;
    unsettled = [];
    publisher.flush().then(
      () => {
        flushing = false;
        for (const id of ids) o.settled?.(id);
        settle();
      },
      () => {
        flushing = false;
        unsettled = [...ids, ...unsettled];
      },
    );
  };
  return {
    name: 'kafka',
    offer(id, body) {
      if (!publisher.publish({ id, body })) return false;
      unsettled.push(id);
      settle();
      return true;
    },
    pending: () => publisher.buffered(),
    async close() {
      await publisher.close();
      if (publisher.buffered() === 0) for (const id of unsettled) o.settled?.(id);
      unsettled = [];
    },
  };
}
