// The real parts the distributed-mode tests share: a Kafka broker (deploy/kafka/broker.sh) and a
// ClickHouse HTTP front over chDB, started before the file's tests and stopped after them, with a
// scratch directory removed at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { spawnClickHouseFront, type ClickHouseFront } from './clickhouse-front.js';
import { startBroker, type TestBroker } from './kafka.js';

export interface Cluster {
  readonly work: string;
  readonly broker: TestBroker;
  readonly front: ClickHouseFront;
}

/** Registers before/after hooks (only when `enabled`); the getters are valid inside tests. */
export function useCluster(prefix: string, enabled = true): Cluster {
  const work = mkdtempSync(join(tmpdir(), prefix));
  let broker: TestBroker | undefined;
  let front: ClickHouseFront | undefined;
  if (enabled) {
    before(async () => {
      broker = await startBroker();
      front = await spawnClickHouseFront({ dir: join(work, 'ch') });
    });
    after(async () => {
      await front?.close();
      await broker?.stop();
      rmSync(work, { recursive: true, force: true });
    });
  }
  return {
    work,
    get broker() {
      if (broker === undefined) throw new Error('cluster not started');
      return broker;
    },
    get front() {
      if (front === undefined) throw new Error('cluster not started');
      return front;
    },
  };
}
