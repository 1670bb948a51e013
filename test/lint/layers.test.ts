// The layering is enforced by the linter (eslint.config.js): an import that crosses a layer is an
// error. Linted as text at paths inside each layer, so the rule itself is what is tested.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';
import { join } from 'node:path';
import { repoRoot } from '../support/paths.js';

const eslint = new ESLint({ cwd: repoRoot });

async function errors(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: join(repoRoot, file) });
  return (r?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

test('an import that crosses a layer is rejected; one that follows the arrows is not', async () => {
  const crossing: [string, string][] = [
    ['collectors/flow/x.ts', "import { createAnalysis } from '../../analyzers/analysis.js';"],
    ['collectors/flow/x.ts', "import { replay } from '../../engine/app/pipelines/replay.js';"],
    ['collectors/flow/x.ts', "import { openChdbStore } from '../../engine/adapters/store/chdb.js';"],
    ['analyzers/pii/x.ts', "import { createCollector } from '../../collectors/collector.js';"],
    ['analyzers/pii/x.ts', "import { metricsText } from '../../engine/app/telemetry/catalogue-views.js';"],
    ['engine/adapters/bus/x.ts', "import { createAnalysis } from '../../../analyzers/analysis.js';"],
    ['engine/adapters/store/x.ts', "import { main } from '../../app/cli/main.js';"],
    ['engine/contracts/x.ts', "import { shardOf } from '../adapters/bus/threads.js';"],
    ['engine/contracts/x.ts', "import { createCollector } from '../../collectors/collector.js';"],
    ['collectors/flow/x.ts', "import { corpus } from '../../test/support/paths.js';"],
  ];
  for (const [file, code] of crossing) {
    assert.ok((await errors(file, code + '\nexport {};\n')).length > 0, `${file}: ${code} must be rejected`);
  }
  const allowed: [string, string][] = [
    ['collectors/flow/x.ts', "import type { Counters } from '../../engine/contracts/counters.js';"],
    ['analyzers/pii/x.ts', "import type { Exchange } from '../../engine/contracts/exchange.js';"],
    ['engine/adapters/bus/x.ts', "import type { Exchange } from '../../contracts/exchange.js';"],
    ['engine/app/cli/x.ts', "import { createAnalysis } from '../../../analyzers/analysis.js';"],
    ['collectors/flow/x.test.ts', "import { corpus } from '../../test/support/paths.js';"],
  ];
  for (const [file, code] of allowed) {
    assert.deepEqual(await errors(file, code + '\nexport {};\n'), [], `${file}: ${code} is allowed`);
  }
});
