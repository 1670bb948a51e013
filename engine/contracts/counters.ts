// Counters for items; logs are for lifecycle only.
//
// Every drop, anomaly and processed item in the pipeline increments a named counter. Names come from
// the one catalogue (./catalogue.ts, checked at compile time), so reports and metrics can be diffed
// across versions. A Counters instance is plain and synchronous: cheap on the hot path (one Map
// lookup), deterministic when serialised (`snapshot()` sorts by name).
import type { CounterName } from './catalogue.js';

export class Counters {
  private readonly values = new Map<CounterName, number>();

  inc(name: CounterName, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by);
  }

  get(name: CounterName): number {
    return this.values.get(name) ?? 0;
  }

  /** Raise the counter to `value` if that is higher (for high-water marks such as peak queue depth). */
  max(name: CounterName, value: number): void {
    if (value > (this.values.get(name) ?? 0)) this.values.set(name, value);
  }

  /** Add every counter of `other` into this one. */
  merge(other: Counters): void {
    for (const [k, v] of other.values) this.inc(k, v);
  }

  /** Counters sorted by name, zeros left out. */
  snapshot(prefix = ''): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.values.keys()].sort()) {
      const v = this.values.get(k) ?? 0;
      if (v !== 0 && k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
    }
    return out;
  }
}
