/** Durable state the core offers adapters (implemented over Redis in src/store/). */
import type { CanonicalId } from "../model/ids.js";
import type { NativeId } from "../model/message.js";

/** Key-value state under the adapter's own key prefix. Keys are the adapter's own names. */
export interface AdapterStateStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  /** Set only when absent; true when this call set it (a dedupe or lock primitive). */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  delete(key: string): Promise<void>;
  /**
   * A lease: exclusive ownership of `name` by `holder` for `ttlMs`. Returns true when `holder`
   * holds it after the call (acquired or renewed). Used e.g. for the one XMPP component link.
   */
  lease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
  /**
   * A named map of fields (one Redis hash: one cluster slot), for sets every process of the
   * deployment shares (e.g. the Matrix puppets kept online). `mapScan` pages through it: start
   * with cursor "0"; the answer's cursor is "0" again at the end (entries may repeat).
   */
  mapSet(map: string, field: string, value: string): Promise<void>;
  mapDelete(map: string, field: string): Promise<void>;
  mapGet(map: string, field: string): Promise<string | undefined>;
  mapScan(map: string, cursor: string, count: number): Promise<{ readonly cursor: string; readonly entries: ReadonlyArray<readonly [string, string]> }>;
  /**
   * A named set of members scored by a time (one Redis sorted set: one cluster slot), e.g. who
   * recently sent through a link. `recentAdd` sets `member`'s time (issue it in the same turn as
   * another write and it shares that write's round trip); `recentTrim` drops members older than
   * `beforeMs`; `recentRange` lists members whose time lies in [fromMs, toMs], newest first, at
   * most `limit`. Optional: a store without them (test doubles) makes the feature using them a no-op.
   */
  recentAdd?(set: string, member: string, atMs: number): Promise<void>;
  recentTrim?(set: string, beforeMs: number): Promise<void>;
  recentRange?(set: string, fromMs: number, toMs: number, limit: number): Promise<ReadonlyArray<readonly [string, number]>>;
}

/** Every field of map `map`, `pageSize` at a time through {@link AdapterStateStore.mapScan} (a field may come twice while the map changes). */
export async function* mapEntries(state: Pick<AdapterStateStore, "mapScan">, map: string, pageSize = 500): AsyncGenerator<readonly [string, string]> {
  let cursor = "0";
  do {
    const page = await state.mapScan(map, cursor, pageSize);
    cursor = page.cursor;
    yield* page.entries;
  } while (cursor !== "0");
}

/** The persistent map between canonical message ids and native ids (never in memory: FIELD.md). */
export interface IdMap {
  link(canonical: CanonicalId, native: NativeId): Promise<void>;
  canonicalFor(native: Pick<NativeId, "network" | "kind" | "id" | "scope">): Promise<CanonicalId | undefined>;
  nativeFor(canonical: CanonicalId, network: string, kind: string): Promise<NativeId | undefined>;
}
