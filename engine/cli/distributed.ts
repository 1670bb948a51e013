// `apitap collect` and `apitap analyze`: the distributed mode (collectors → Kafka → analyzer group).
import type { Command } from 'commander';
import type { LoadedSpec } from '../../analyzers/spec/index.js';

export interface CliHelpers {
  fail(code: number, message: string): never;
  installationSecret(dir: string): Buffer;
  loadSpecs(paths: readonly string[]): Promise<LoadedSpec[]>;
}

export function registerDistributed(_program: Command, _h: CliHelpers): void {
  // Registered once the Kafka bus lands (issue 4).
}
