/**
 * Admin functions for presence, subscriptions and access rules (RFC 2779 App. C1–C3: the
 * administrator can find out who subscribes and adjust access). `parley presence show`,
 * `parley subscriptions list` and the admin API call these; access-rule changes are audited.
 */
import { asNetworkId, canonicalAddress, domainOf, endpointKey, type Endpoint } from "../model/address.js";
import type { AccessRules } from "../model/access.js";
import type { Presence } from "../model/presence.js";
import type { Subscription } from "../model/subscription.js";
import type { AdminRoute } from "../admin/server.js";
import { ParleyError } from "../errors/parley-error.js";
import type { AccessRulesOverride } from "../policy/access-policy.js";
import { fanoutJob } from "./jobs.js";
import type { PresenceService } from "./service.js";
import { PIDF_CONTENT_TYPE, serializePidf } from "../model/pidf.js";
import { errorMessage } from "../errors/message.js";

export interface PresenceShow {
  readonly presentity: Endpoint;
  /** The raw stored presence (the admin sees it unprojected), or null when none is known. */
  readonly presence: Presence | null;
  readonly open: boolean;
  readonly lastSeen: string | null;
  readonly originVersion: number;
  readonly rules: AccessRules;
}

export interface SubscriptionListing {
  readonly address: Endpoint;
  /** Who watches this address, in which state (the truth, polite blocks included). */
  readonly watchers: readonly Subscription[];
  /** What this address watches. */
  readonly watching: readonly Subscription[];
}

export class PresenceAdmin {
  constructor(private readonly service: PresenceService) {}

  /**
   * `network/local@domain`, or `local@domain` whose domain the mappings list (its home network).
   * Throws PARLEY_ADDRESS_UNKNOWN for an unlisted domain without a network.
   */
  resolve(input: string): Endpoint {
    const slash = input.indexOf("/");
    if (slash > 0 && !input.slice(0, slash).includes("@")) {
      try {
        return { network: asNetworkId(input.slice(0, slash)), address: canonicalAddress(input.slice(slash + 1)) };
      } catch (e) {
        throw new ParleyError("PARLEY_ADDRESS_INVALID", errorMessage(e));
      }
    }
    let address;
    try {
      address = canonicalAddress(input);
    } catch (e) {
      throw new ParleyError("PARLEY_ADDRESS_INVALID", errorMessage(e));
    }
    const home = this.service.parts.options.mappings().domains.get(domainOf(address))?.home;
    if (home === undefined) throw new ParleyError("PARLEY_ADDRESS_UNKNOWN", `${domainOf(address)} is not listed; name the network as network/${address}`);
    return { network: home, address };
  }

  async showPresence(input: string): Promise<PresenceShow> {
    const who = this.resolve(input);
    const { store, policy } = this.service.parts;
    const [stored, rules] = await Promise.all([store.get(who), policy.rulesFor(who)]);
    return {
      presentity: who,
      presence: stored?.presence ?? null,
      open: stored?.open ?? false,
      lastSeen: stored?.lastSeen !== undefined ? new Date(stored.lastSeen).toISOString() : null,
      originVersion: stored?.originVersion ?? 0,
      rules,
    };
  }

  async listSubscriptions(input: string): Promise<SubscriptionListing> {
    const who = this.resolve(input);
    const subs = this.service.parts.subscriptions;
    const [watchers, watching] = await Promise.all([subs.list(who, "watchers"), subs.list(who, "watching")]);
    return { address: who, watchers, watching };
  }

  /**
   * Replace the per-address override of `input`'s access rules (fields not given fall back to the
   * domain's defaults; `{}` removes the override). Audited in the log with the actor, and every
   * watcher is re-sent its view so the change takes effect at once.
   */
  async setAccessRules(input: string, override: unknown, actor: string): Promise<AccessRules> {
    const who = this.resolve(input);
    const { policy, log, options } = this.service.parts;
    const before = await policy.overrideFor(who);
    const after: AccessRulesOverride = await policy.setOverride(who, override);
    log.info({ audit: "access-rules", actor, presentity: endpointKey(who), before: before ?? null, after }, "access rules changed");
    await options.delivery.enqueue([fanoutJob(who, true)]);
    return policy.rulesFor(who);
  }
}

/** Admin API routes (for the lead to add to the admin listener). `:address` as in {@link PresenceAdmin.resolve}. */
export function presenceAdminRoutes(admin: PresenceAdmin): AdminRoute[] {
  return [
    {
      method: "GET",
      path: "/presence/:address",
      handle: async (p, _body, _query, accept) => {
        const show = await admin.showPresence(p.address!);
        if (!(accept ?? "").includes(PIDF_CONTENT_TYPE)) return { status: 200, body: show };
        if (show.presence === null) throw new ParleyError("PARLEY_NOT_FOUND", `no presence known for ${show.presentity.network}/${show.presentity.address}`);
        return { status: 200, body: serializePidf(show.presence), contentType: `${PIDF_CONTENT_TYPE}; charset=utf-8` };
      },
    },
    { method: "GET", path: "/subscriptions/:address", handle: async (p) => ({ status: 200, body: await admin.listSubscriptions(p.address!) }) },
    { method: "GET", path: "/access/:address", handle: async (p) => ({ status: 200, body: (await admin.showPresence(p.address!)).rules }) },
    {
      method: "PUT",
      path: "/access/:address",
      handle: async (p, body) => {
        const b = (body ?? {}) as { rules?: unknown; actor?: unknown };
        const actor = typeof b.actor === "string" && b.actor.length > 0 ? b.actor.slice(0, 128) : "admin-api";
        return { status: 200, body: await admin.setAccessRules(p.address!, b.rules ?? {}, actor) };
      },
    },
  ];
}

const when = (iso: string | undefined) => iso ?? "never";

/** Lines for `parley presence show <address>`. */
export function formatPresenceShow(s: PresenceShow): string[] {
  const lines = [`presentity  ${s.presentity.network}/${s.presentity.address}`];
  if (s.presence === null) {
    lines.push("presence    none known");
  } else {
    lines.push(`presence    ${s.open ? "OPEN" : "CLOSED"} (version ${s.presence.version}, origin version ${s.originVersion}, ${s.presence.provenance.source}${s.presence.provenance.reason ? `: ${s.presence.provenance.reason}` : ""})`);
    lines.push(`last seen   ${when(s.lastSeen ?? undefined)}`);
    for (const t of s.presence.tuples) {
      const note = t.note ? ` "${Object.values(t.note)[0] ?? ""}"` : "";
      lines.push(`  tuple ${t.id}: ${t.basic}${t.show ? `/${t.show}` : ""}${t.priority !== undefined ? ` priority ${t.priority}` : ""}${note} at ${t.timestamp}`);
    }
  }
  const r = s.rules;
  lines.push(`subscribe   ${r.subscribe}; unauthenticated ${r.allowUnauthenticatedSubscribers ? "allowed" : "refused"}; default view ${r.defaultVisibility}`);
  lines.push(`allow ${r.allow.length} · blocked ${r.blockSubscribers.length} · politely blocked ${r.politelyBlocked.length} · per-watcher views ${Object.keys(r.visibility).length} · blocked senders ${r.blockSenders.length}`);
  return lines;
}

/** Lines for `parley subscriptions list <address>`. */
export function formatSubscriptionListing(l: SubscriptionListing): string[] {
  const row = (other: Endpoint, sub: Subscription) => `  ${sub.state.padEnd(16)} ${other.network}/${other.address}  (${sub.decidedBy ?? "-"}, ${sub.at})`;
  return [
    `${l.address.network}/${l.address.address}`,
    `watched by ${l.watchers.length}:`,
    ...l.watchers.map((s) => row(s.watcher, s)),
    `watching ${l.watching.length}:`,
    ...l.watching.map((s) => row(s.presentity, s)),
  ];
}
