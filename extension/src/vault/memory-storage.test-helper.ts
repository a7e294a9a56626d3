import type { VaultStorageArea } from './vault-store.js';

/** How an injected storage failure behaves: before anything is written, after (lost ack), or torn. */
export type FailureMode = 'before' | 'after' | 'torn';

/**
 * An in-memory `storage.local` for tests that can be told to fail its Nth mutating call
 * (`set` or `remove`, counted from 1), the way a crash or a quota error would interrupt a write.
 */
export class MemoryStorage implements VaultStorageArea {
  readonly data = new Map<string, unknown>();
  mutations = 0;
  failAt: number | null = null;
  failMode: FailureMode = 'before';

  /** @param markAreas other areas that keep the rollback high-water mark (as storage.sync does in the browser). */
  constructor(readonly markAreas: readonly VaultStorageArea[] = []) {}

  /** `null`: every item, as the browser's storage areas answer. */
  async get(keys: string[] | null): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const key of keys ?? this.data.keys()) if (this.data.has(key)) out[key] = structuredClone(this.data.get(key));
    return out;
  }

  async set(items: Record<string, unknown>): Promise<void> {
    this.mutate(
      () => {
        for (const [key, value] of Object.entries(items)) this.data.set(key, structuredClone(value));
      },
      () => {
        for (const [key, value] of Object.entries(items)) {
          this.data.set(key, typeof value === 'string' ? value.slice(0, Math.floor(value.length / 2)) : value);
        }
      },
    );
  }

  async remove(keys: string[]): Promise<void> {
    this.mutate(
      () => {
        for (const key of keys) this.data.delete(key);
      },
      () => {
        for (const key of keys.slice(0, 1)) this.data.delete(key);
      },
    );
  }

  snapshot(): string {
    return JSON.stringify([...this.data.entries()].sort());
  }

  private mutate(apply: () => void, tear: () => void): void {
    this.mutations += 1;
    if (this.failAt !== this.mutations) return apply();
    if (this.failMode === 'after') apply();
    if (this.failMode === 'torn') tear();
    throw new Error(`Injected storage failure at mutation ${this.mutations} (${this.failMode}).`);
  }
}
