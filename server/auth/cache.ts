/**
 * A small in-memory cache of validated sessions and tokens, so that a request does not read
 * storage every time. Entries are trusted for `AUTH_CACHE_SECONDS` (5 s by default); revocations
 * made in this process drop entries at once, revocations made elsewhere (another cockpit process
 * on a ClickHouse server, or the CLI writing storage directly) take effect within that bound.
 */
export class TtlCache<V extends { fetchedAtNs: bigint }> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly maxEntries = 20_000) {}

  get(key: string, nowNs: bigint, ttlNs: bigint): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (nowNs - entry.fetchedAtNs >= ttlNs || nowNs < entry.fetchedAtNs) return undefined;
    return entry;
  }

  /** The entry whatever its age (to carry in-memory state such as last-seen across a refresh). */
  peek(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      // Oldest first (Map keeps insertion order): a flood of distinct ids cannot grow memory.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.delete(key);
    this.entries.set(key, value);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  deleteWhere(predicate: (value: V) => boolean): void {
    for (const [key, value] of this.entries) if (predicate(value)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
