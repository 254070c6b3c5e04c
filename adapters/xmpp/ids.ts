/**
 * How Parley names what it sends on XMPP: every stanza for a canonical message carries the id
 * `parley-<canonical id>` (as `id` and as XEP-0359 origin-id), so a retry is recognisable and a
 * receipt, marker, reaction or bounce maps back without a lookup; and the namespaces of the
 * message extensions Parley writes.
 */
import { CanonicalIdSchema, type CanonicalId } from "../../src/model/ids.js";

export const NS_SID = "urn:xmpp:sid:0";
export const NS_RECEIPTS = "urn:xmpp:receipts";
export const NS_CORRECT = "urn:xmpp:message-correct:0";
/** Parley's hop count on the wire (DESIGN §3, docs/extensions.md). */
export const NS_HOPS = "urn:parley:hops:0";

const STANZA_ID_PREFIX = "parley-";

export function stanzaIdFor(id: CanonicalId): string {
  return `${STANZA_ID_PREFIX}${id}`;
}

export function canonicalFromStanzaId(stanzaId: string): CanonicalId | undefined {
  if (!stanzaId.startsWith(STANZA_ID_PREFIX)) return undefined;
  const parsed = CanonicalIdSchema.safeParse(stanzaId.slice(STANZA_ID_PREFIX.length));
  return parsed.success ? parsed.data : undefined;
}
