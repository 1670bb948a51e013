// Counters for items; logs are for lifecycle only.
//
// Every drop, anomaly and processed item in the pipeline increments a named counter. Names are
// stable snake_case strings (anomaly names are counters too), so reports and metrics can be diffed
// across versions. A Counters instance is plain and synchronous: cheap on the hot path (one Map
// lookup), deterministic when serialised (`snapshot()` sorts by name).
export class Counters {
  private readonly values = new Map<string, number>();

  inc(name: string, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  /** Raise the counter to `value` if that is higher (for high-water marks such as peak queue depth). */
  max(name: string, value: number): void {
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
