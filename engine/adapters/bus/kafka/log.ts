// The kafkajs → pino bridge of the Kafka bus. Logs are for lifecycle (connects, retries, crashes);
// items are counted (BUS_COUNTERS), never logged.
import { logLevel, type LogEntry, type logCreator } from 'kafkajs';
import { pino, type Logger } from 'pino';

/**
 * kafkajs logs through pino at WARN and above. Only a whitelist of fields is passed on (broker,
 * group, topic, retry facts, error text), so no message key, value or header can reach a log.
 */
export function kafkajsLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const l = log as unknown as Record<string, unknown>;
      const err = l['error'];
      const fields = {
        ns: namespace,
        broker: l['broker'],
        groupId: l['groupId'],
        topic: l['topic'],
        retryCount: l['retryCount'],
        retryTime: l['retryTime'],
        error: err instanceof Error ? err.message : typeof err === 'string' ? err : undefined,
      };
      const msg = typeof l['message'] === 'string' ? l['message'] : 'kafkajs';
      if (level === logLevel.ERROR) logger.error(fields, msg);
      else if (level === logLevel.WARN) logger.warn(fields, msg);
      else if (level === logLevel.INFO) logger.info(fields, msg);
      else logger.debug(fields, msg);
    };
}

/** The default logger of the bus: pino to stderr at warn. */
export function defaultBusLogger(): Logger {
  return pino({ name: 'apitap-bus', level: 'warn' }, pino.destination(2));
}
