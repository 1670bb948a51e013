// TLS as plug-ins: cleartext credentials judged on exchanges (cleartext.ts), and the findings of the
// inventory of encrypted hosts (inventory.ts), whose tls/v1 records the facade feeds (observeTls).
import type { CounterName } from '../../engine/contracts/catalogue.js';
import type { AnalyzerPlugin } from '../plugin.js';
import { createCleartextTracker } from './cleartext.js';
import type { TlsInventory } from './inventory.js';

export function createCleartextAnalyzer(): AnalyzerPlugin {
  const t = createCleartextTracker();
  return {
    name: 'cleartext',
    observe: (o) => t.observe(o.ex, o.host, o.method, o.path, o.auth.schemes),
    findings: () => t.findings(),
    forget: (hosts) => t.forget(hosts),
    restore: (findings) => t.restore(findings),
  };
}

export function createTlsAnalyzer(inv: TlsInventory): AnalyzerPlugin {
  return {
    name: 'tls',
    findings: () => inv.findings(),
    forget: (hosts) => inv.forget(hosts),
    stats: () => inv.stats() as Partial<Record<CounterName, number>>,
  };
}
