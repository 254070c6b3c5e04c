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
}

/** The persistent map between canonical message ids and native ids (never in memory: FIELD.md). */
export interface IdMap {
  link(canonical: CanonicalId, native: NativeId): Promise<void>;
  canonicalFor(native: Pick<NativeId, "network" | "kind" | "id" | "scope">): Promise<CanonicalId | undefined>;
  nativeFor(canonical: CanonicalId, network: string, kind: string): Promise<NativeId | undefined>;
}
