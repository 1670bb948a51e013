// SASL / TLS of the Kafka bus, from the environment only (never from flags, so never in `ps`).
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { KAFKA_ERROR_CODES, KafkaPermanentError } from './errors.js';

/**
 * SASL / TLS from the environment. Values are read here and handed to kafkajs only: never logged,
 * never put in an error message. A bad combination throws KafkaPermanentError (BUS_KAFKA_CONFIG).
 *   APITAP_KAFKA_SASL_MECHANISM  plain | scram-sha-256 | scram-sha-512 (unset: no SASL)
 *   APITAP_KAFKA_USERNAME, APITAP_KAFKA_PASSWORD  required with a mechanism
 *   APITAP_KAFKA_SSL=1           TLS with the system CAs
 */
export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const mechanism = env['APITAP_KAFKA_SASL_MECHANISM']?.trim().toLowerCase() ?? '';
  const ssl = env['APITAP_KAFKA_SSL'] === '1' || env['APITAP_KAFKA_SSL']?.toLowerCase() === 'true';
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = { ssl };
  if (mechanism === '') return out;
  if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') {
    throw new KafkaPermanentError(
      KAFKA_ERROR_CODES.config,
      'APITAP_KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512',
    );
  }
  const username = env['APITAP_KAFKA_USERNAME'];
  const password = env['APITAP_KAFKA_PASSWORD'];
  if (!username || !password) {
    throw new KafkaPermanentError(
      KAFKA_ERROR_CODES.config,
      'APITAP_KAFKA_USERNAME and APITAP_KAFKA_PASSWORD are required with APITAP_KAFKA_SASL_MECHANISM',
    );
  }
  const sasl: SASLOptions = { mechanism, username, password };
  out.sasl = sasl;
  return out;
}
