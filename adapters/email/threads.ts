/**
 * Threading: one chat conversation (an email mailbox and one foreign user) is one mail thread.
 * Each message carries `In-Reply-To` the previous message of the conversation and `References`
 * the thread's root and recent messages (RFC 5322 §3.6.4), whichever direction they went.
 * State lives in the adapter's durable store, never in memory.
 */
import type { AdapterStateStore } from "../../src/adapter/state.js";
import type { CanonicalId } from "../../src/model/ids.js";

/** How many Message-IDs `References` keeps (the root plus the most recent ones). */
const MAX_REFERENCES = 10;
const THREAD_TTL_SECONDS = 180 * 24 * 3600;

export interface ThreadState {
  readonly root: string;
  readonly refs: readonly string[];
  readonly subject: string;
}

function key(mailbox: string, peer: string): string {
  return `thread:${mailbox.toLowerCase()}|${peer.toLowerCase()}`;
}

export async function loadThread(store: AdapterStateStore, mailbox: string, peer: string): Promise<ThreadState | undefined> {
  const raw = await store.get(key(mailbox, peer));
  return raw === undefined ? undefined : (JSON.parse(raw) as ThreadState);
}

/** Record that `messageId` is the newest message of the conversation. */
export async function extendThread(store: AdapterStateStore, mailbox: string, peer: string, messageId: string, subject: string): Promise<void> {
  const t = await loadThread(store, mailbox, peer);
  const refs = t ? [...t.refs.filter((r) => r !== messageId), messageId] : [messageId];
  const kept = refs.length > MAX_REFERENCES ? [refs[0]!, ...refs.slice(-(MAX_REFERENCES - 1))] : refs;
  const next: ThreadState = { root: t?.root ?? messageId, refs: kept, subject: t?.subject ?? subject };
  await store.set(key(mailbox, peer), JSON.stringify(next), THREAD_TTL_SECONDS);
}

/** The Message-ID Parley gives the email form of a canonical message: stable across retries. */
export function messageIdFor(id: CanonicalId, domain: string): string {
  return `<${id}@${domain}>`;
}

const OWN_ID = /^<?([0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})@[^>]+>?$/;

/** The canonical id inside a Message-ID of Parley's form, if it has that form. */
export function canonicalIdInMessageId(messageId: string): string | undefined {
  return OWN_ID.exec(messageId.trim())?.[1];
}
