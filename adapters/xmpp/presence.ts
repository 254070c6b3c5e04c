/**
 * Presence and subscriptions both ways (RFC 6121 §3, §4; RFC 2779 §5.1–5.3). The adapter only
 * translates: the access decision is the core's. XMPP users' presence is kept per resource (one
 * canonical tuple each); puppets' presence is sent per tuple as the puppet's resources, and
 * remembered per (watcher, puppet) so it can be restored on reconnect and withdrawn on shutdown
 * (XEP-0100 §4.3/§4.5 habits).
 */
import { DeliveryError } from "../../src/adapter/contract.js";
import type { PresenceNotification, SubscriptionNotice } from "../../src/adapter/presence.js";
import { endpointKey, type Endpoint } from "../../src/model/address.js";
import type { LangMap } from "../../src/model/common.js";
import { PresenceSchema, ShowSchema, type Presence, type Tuple } from "../../src/model/presence.js";
import type { SubscriptionAction } from "../../src/model/subscription.js";
import { XMPP, parseJid, toNative } from "./address.js";
import { xml, type XmlElement } from "./connection.js";
import { drop, resolveParties, type Parties, type XmppRuntime } from "./stanza.js";
import { errorMessage } from "../../src/errors/message.js";
import { AvatarHashes } from "./profile.js";

const AUTH = { method: "network" as const, detail: "XMPP server on the component link" };
const MAX_PAIRS = 10_000;
/** A resource silent for a day is forgotten (the server sends unavailable for dead sessions anyway). */
const RESOURCES_TTL_SECONDS = 24 * 3600;

/** Presence of one XMPP resource → canonical tuple (RFC 7248 Table 1: no type → open, unavailable → closed). */
export function tupleOf(el: XmlElement, resource: string): Tuple {
  const show = ShowSchema.safeParse(el.getChildText("show") ?? "");
  const note: LangMap = {};
  for (const s of el.getChildren("status").slice(0, 8)) note[s.attrs["xml:lang"] ?? el.attrs["xml:lang"] ?? "und"] = s.text().slice(0, 4096);
  const prio = Number(el.getChildText("priority") ?? "0");
  return {
    id: resource.slice(0, 1023) || "default",
    service: "im",
    basic: el.attrs.type === "unavailable" ? "closed" : "open",
    show: el.attrs.type === "unavailable" || !show.success ? undefined : show.data,
    note: Object.keys(note).length > 0 ? note : undefined,
    priority: Number.isInteger(prio) ? Math.max(-128, Math.min(127, prio)) : 0,
    timestamp: new Date().toISOString(),
  };
}

/** Canonical tuple → `<presence/>` from a puppet resource (the reverse of {@link tupleOf}). */
export function presenceStanza(from: string, to: string, t: Tuple | undefined): XmlElement {
  const el = xml("presence", { from: t ? `${from}/${t.id}` : from, to, type: t?.basic === "open" ? undefined : "unavailable" });
  if (t?.basic === "open" && t.show) el.append(xml("show", {}, t.show));
  for (const [lang, text] of Object.entries(t?.note ?? {})) el.append(xml("status", lang === "und" ? {} : { "xml:lang": lang }, text));
  if (t?.basic === "open" && t.priority !== undefined) el.append(xml("priority", {}, String(t.priority)));
  return el;
}

export class PresenceState {
  /** Per XMPP user (bare JID): resource → tuple, and the last version sent to the core. */
  private readonly resources = new Map<string, Map<string, Tuple>>();
  private readonly versions = new Map<string, number>();
  /** (watcher, puppet) pairs Parley has shown presence for: restored on connect, closed on stop. */
  private pairs = new Map<string, { watcher: Endpoint; presentity: Endpoint }>();
  /** Per pair, the puppet resources last shown available (to withdraw the ones that disappear). */
  private readonly shown = new Map<string, Set<string>>();
  /** Per XMPP user, the XEP-0153 avatar hash their server last put in their presence. */
  readonly avatars = new AvatarHashes();

  constructor(private readonly rt: XmppRuntime) {}

  async load(): Promise<void> {
    const raw = await this.rt.ctx.state.get("presence-pairs");
    if (!raw) return;
    try {
      const list = JSON.parse(raw) as Array<{ watcher: Endpoint; presentity: Endpoint }>;
      this.pairs = new Map(list.map((p) => [`${endpointKey(p.watcher)}|${endpointKey(p.presentity)}`, p]));
    } catch {
      this.rt.log.warn("presence pairs unreadable; starting empty");
    }
  }

  private async remember(watcher: Endpoint, presentity: Endpoint): Promise<void> {
    const key = `${endpointKey(watcher)}|${endpointKey(presentity)}`;
    if (this.pairs.has(key) || this.pairs.size >= MAX_PAIRS) return;
    this.pairs.set(key, { watcher, presentity });
    await this.rt.ctx.state.set("presence-pairs", JSON.stringify([...this.pairs.values()]));
  }

  nextVersion(bare: string): number {
    const v = Math.max(Date.now() * 1000, (this.versions.get(bare) ?? 0) + 1);
    this.versions.set(bare, v);
    return v;
  }

  /**
   * Record one resource's presence; undefined when nothing changed (Prosody fans one change out to
   * every puppet). The resource map is kept in adapter state too, so a process taking over the
   * link continues with it.
   */
  async update(bare: string, tuple: Tuple): Promise<Tuple[] | undefined> {
    let res = this.resources.get(bare);
    if (!res) {
      const raw = await this.rt.ctx.state.get(`resources:${bare}`);
      res = new Map((raw ? (JSON.parse(raw) as Tuple[]) : []).map((t) => [t.id, t]));
      this.resources.set(bare, res);
    }
    const prev = res.get(tuple.id);
    const same = prev && JSON.stringify({ ...prev, timestamp: 0 }) === JSON.stringify({ ...tuple, timestamp: 0 });
    if (tuple.basic === "closed") res.delete(tuple.id);
    else res.set(tuple.id, tuple);
    if (same || (!prev && tuple.basic === "closed" && res.size > 0)) return undefined;
    await this.rt.ctx.state.set(`resources:${bare}`, JSON.stringify([...res.values()]), RESOURCES_TTL_SECONDS);
    return res.size > 0 ? [...res.values()] : [tuple];
  }

  /** Show `presence` of a foreign presentity to an XMPP watcher (RFC 6121 §4.2, directed presence). */
  async deliver(n: PresenceNotification): Promise<void> {
    if (n.watcher.network !== XMPP) throw new DeliveryError("permanent", "recipient-unknown", "watcher is not an XMPP user");
    const m = this.rt.ctx.mappings();
    const from = toNative(n.presence.presentity, m);
    const to = toNative(n.watcher, m);
    if (!this.rt.link.isOnline(parseJid(from).domain)) throw new DeliveryError("transient", "unavailable", "component link is down");
    const tuples = n.presence.tuples.filter((t) => t.service === "im" || t.service === "other");
    const key = `${endpointKey(n.watcher)}|${endpointKey(n.presence.presentity)}`;
    // A resource shown before and absent now goes unavailable by its own full JID (RFC 6121 §4.5).
    const gone = [...(this.shown.get(key) ?? [])].filter((id) => !tuples.some((t) => t.id === id));
    const stanzas = [
      ...gone.map((id) => presenceStanza(from, to, { id, service: "im", basic: "closed", timestamp: new Date().toISOString() })),
      ...(tuples.length > 0 ? tuples.map((t) => presenceStanza(from, to, t)) : gone.length > 0 ? [] : [presenceStanza(from, to, undefined)]),
    ];
    try {
      for (const s of stanzas) await this.rt.link.send(s);
    } catch (e) {
      throw new DeliveryError("transient", "unavailable", "presence not sent", { cause: e });
    }
    this.shown.set(key, new Set(tuples.filter((t) => t.basic === "open").map((t) => t.id)));
    await this.remember(n.watcher, n.presence.presentity);
  }

  /** After (re)connecting: send every remembered puppet's current presence again. */
  async restore(): Promise<number> {
    let sent = 0;
    for (const { watcher, presentity } of this.pairs.values()) {
      try {
        const p = await this.rt.ctx.presenceFor(watcher, presentity);
        await this.deliver({ watcher, presence: p ?? closedPresence(presentity) });
        sent++;
      } catch (e) {
        this.rt.log.warn({ err: errorMessage(e) }, "presence restore failed for one puppet");
      }
    }
    return sent;
  }

  /** On shutdown: every remembered puppet goes unavailable (XEP-0100 §4.5 habit). */
  async withdrawAll(): Promise<void> {
    const m = this.rt.ctx.mappings();
    for (const { watcher, presentity } of this.pairs.values()) {
      try {
        await this.rt.link.send(presenceStanza(toNative(presentity, m), toNative(watcher, m), undefined));
      } catch {
        return; // link already down: the server sends unavailable for the component's JIDs itself
      }
    }
  }

  async inbound(el: XmlElement, p: Parties): Promise<void> {
    const resource = parseJid(p.senderJid).resource ?? "";
    const avatarChanged = this.avatars.note(p.senderBare, el);
    let tuples = await this.update(p.senderBare, tupleOf(el, resource));
    // A new avatar hash with the same show and status is still news: the other networks re-read the profile.
    if (!tuples && avatarChanged) tuples = [...(this.resources.get(p.senderBare)?.values() ?? [])];
    if (!tuples || tuples.length === 0) return;
    const presence = PresenceSchema.parse({
      presentity: p.sender, tuples, version: this.nextVersion(p.senderBare), provenance: { source: "origin" },
      extensions: this.avatars.extensionOf(p.senderBare),
    });
    await this.rt.ctx.accept([{ kind: "presence", presence, authenticatedBy: AUTH }]);
  }
}

export function closedPresence(presentity: Endpoint): Presence {
  return PresenceSchema.parse({ presentity, tuples: [], version: 0, provenance: { source: "gateway", reason: "no presence known" } });
}

/** RFC 6121 §3: subscription stanzas from an XMPP user about a puppet → canonical requests. */
async function subscription(rt: XmppRuntime, type: string, p: Parties): Promise<void> {
  let action: SubscriptionAction;
  let watcher = p.sender;
  let presentity = p.recipient;
  if (type === "subscribe") action = "request";
  else if (type === "unsubscribe") action = "cancel";
  else {
    // subscribed / unsubscribed: the XMPP user is the presentity deciding about the puppet.
    watcher = p.recipient;
    presentity = p.sender;
    if (type === "subscribed") action = "approve";
    else {
      const subs = await rt.ctx.subscriptionsOf(presentity, "watchers");
      const s = subs.find((x) => endpointKey(x.watcher) === endpointKey(watcher));
      action = s?.state === "approved" || s?.state === "politely-blocked" ? "revoke" : "deny";
    }
  }
  await rt.ctx.accept([{ kind: "subscription", request: {
    action, watcher, presentity, actor: p.sender, authenticatedBy: AUTH, at: new Date().toISOString(),
  } }]);
}

/** Answer a probe from the presence store (RFC 6121 §4.3.2), through the watcher's projection. */
async function probe(rt: XmppRuntime, p: Parties): Promise<void> {
  const presence = await rt.ctx.presenceFor(p.sender, p.recipient);
  const tuples = presence?.tuples.filter((t) => t.service === "im" || t.service === "other") ?? [];
  const stanzas = tuples.length > 0 ? tuples.map((t) => presenceStanza(p.recipientJid, p.senderJid, t)) : [presenceStanza(p.recipientJid, p.senderJid, undefined)];
  for (const s of stanzas) await rt.link.send(s);
}

export async function handlePresence(rt: XmppRuntime, el: XmlElement, state: PresenceState): Promise<void> {
  const type = el.attrs.type;
  if (type === "error") {
    drop(rt, el, "presence error");
    return;
  }
  const p = await resolveParties(rt, el);
  if (!p) return;
  if (type === undefined || type === "unavailable") return state.inbound(el, p);
  if (type === "probe") return probe(rt, p);
  if (["subscribe", "subscribed", "unsubscribe", "unsubscribed"].includes(type)) return subscription(rt, type, p);
  drop(rt, el, `unknown presence type ${type.slice(0, 20)}`);
}

/** Tell an XMPP user about a subscription (RFC 6121 §3.1.2, §3.1.5, §3.2, §3.3). */
export async function deliverSubscription(rt: XmppRuntime, n: SubscriptionNotice): Promise<void> {
  if (n.to.network !== XMPP) throw new DeliveryError("permanent", "recipient-unknown", "not an XMPP user");
  const s = n.subscription;
  const toIsPresentity = endpointKey(n.to) === endpointKey(s.presentity);
  const other = toIsPresentity ? s.watcher : s.presentity;
  let type: string | undefined;
  if (toIsPresentity) type = s.state === "pending" ? "subscribe" : s.state === "cancelled" ? "unsubscribe" : undefined;
  else type = s.state === "approved" || s.state === "politely-blocked" ? "subscribed" : s.state === "denied" || s.state === "cancelled" ? "unsubscribed" : undefined;
  if (type === undefined) return;
  const m = rt.ctx.mappings();
  const from = toNative(other, m);
  if (!rt.link.isOnline(parseJid(from).domain)) throw new DeliveryError("transient", "unavailable", "component link is down");
  try {
    await rt.link.send(xml("presence", { type, from, to: toNative(n.to, m) }));
  } catch (e) {
    throw new DeliveryError("transient", "unavailable", "subscription stanza not sent", { cause: e });
  }
}
