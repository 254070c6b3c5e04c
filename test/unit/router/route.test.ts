import { describe, expect, it } from "vitest";
import { endpoint, type Endpoint } from "../../../src/model/address.js";
import { route, policyFor, type RouteKind } from "../../../src/router/index.js";
import type { DomainMappings } from "../../../src/mappings/types.js";
import { testMappings, type TestMappingsSpec } from "../../support/mappings.js";

/** The example company: chat.example.org on XMPP, matrix.example.org on Matrix, example.org on email. */
function company(overrides: Partial<TestMappingsSpec> = {}): DomainMappings {
  return testMappings({
    networks: { xmpp: {}, matrix: {}, email: {}, ...overrides.networks },
    domains: {
      "chat.example.org": { home: "xmpp" },
      "matrix.example.org": { home: "matrix" },
      "example.org": { home: "email", policy: { presence: false } },
      ...overrides.domains,
    },
    ...(overrides.defaultPolicy ? { defaultPolicy: overrides.defaultPolicy } : {}),
  });
}

const alice = endpoint("alice@chat.example.org", "xmpp");
const bob = endpoint("bob@matrix.example.org", "matrix");
const carol = endpoint("carol@example.org", "email");
const stranger = (net: string, domain = "stranger.example") => endpoint(`s@${domain}`, net);

interface Row {
  name: string;
  m: DomainMappings;
  from: Endpoint;
  to: Endpoint;
  kind?: RouteKind;
  /** A network id when routed, else the expected error code and (for refusals) rule. */
  expect: string;
}

function outcome(r: ReturnType<typeof route>): string {
  if (r.ok) return r.network;
  const rule = r.error.details.rule;
  return typeof rule === "string" ? `${r.error.code} ${rule}` : r.error.code;
}

function table(rows: Row[]) {
  for (const row of rows) {
    it(row.name, () => expect(outcome(route(row.m, row.from, row.to, row.kind ?? "message"))).toBe(row.expect));
  }
}

describe("router: listed domains and addresses", () => {
  table([
    { name: "xmpp → matrix goes to matrix", m: company(), from: alice, to: bob, expect: "matrix" },
    { name: "matrix → email goes to email", m: company(), from: bob, to: carol, expect: "email" },
    { name: "email → xmpp goes to xmpp", m: company(), from: carol, to: alice, expect: "xmpp" },
    { name: "a listed domain on the wrong network is unknown", m: company(), from: alice, to: endpoint("bob@matrix.example.org", "xmpp"), expect: "PARLEY_ADDRESS_UNKNOWN" },
    { name: "a sender of a listed domain on the wrong network is unknown", m: company(), from: endpoint("alice@chat.example.org", "email"), to: bob, expect: "PARLEY_ADDRESS_UNKNOWN" },
    { name: "an unconfigured network is unknown", m: company(), from: alice, to: stranger("irc"), expect: "PARLEY_ADDRESS_UNKNOWN" },
    { name: "two unlisted domains: no open relay", m: company(), from: stranger("xmpp", "a.example"), to: stranger("matrix", "b.example"), expect: "PARLEY_REFUSED relay" },
  ]);
});

describe("router: T-2.2.1 federation per direction with allow and deny lists", () => {
  const fed = (net: string, federation: Record<string, unknown>) => company({ networks: { [net]: { federation } } });
  table([
    { name: "open by default, inbound", m: company(), from: stranger("matrix"), to: alice, expect: "xmpp" },
    { name: "open by default, outbound", m: company(), from: alice, to: stranger("matrix"), expect: "matrix" },
    { name: "inbound deny refuses an unlisted sender", m: fed("matrix", { inbound: "deny" }), from: stranger("matrix"), to: alice, expect: "PARLEY_REFUSED federation.inbound" },
    { name: "inbound deny leaves outbound open", m: fed("matrix", { inbound: "deny" }), from: alice, to: stranger("matrix"), expect: "matrix" },
    { name: "outbound deny refuses an unlisted recipient", m: fed("matrix", { outbound: "deny" }), from: alice, to: stranger("matrix"), expect: "PARLEY_REFUSED federation.outbound" },
    { name: "outbound deny leaves inbound open", m: fed("matrix", { outbound: "deny" }), from: stranger("matrix"), to: alice, expect: "xmpp" },
    { name: "policy is the unlisted side's network's (xmpp deny does not touch matrix)", m: fed("xmpp", { inbound: "deny", outbound: "deny" }), from: stranger("matrix"), to: alice, expect: "xmpp" },
    { name: "listed domains ignore federation policy", m: fed("matrix", { inbound: "deny", outbound: "deny" }), from: bob, to: alice, expect: "xmpp" },
    { name: "denyDomains refuses inbound", m: fed("matrix", { denyDomains: ["stranger.example"] }), from: stranger("matrix"), to: alice, expect: "PARLEY_REFUSED federation.denyDomains" },
    { name: "denyDomains refuses outbound", m: fed("matrix", { denyDomains: ["stranger.example"] }), from: alice, to: stranger("matrix"), expect: "PARLEY_REFUSED federation.denyDomains" },
    { name: "denyDomains lets others through", m: fed("matrix", { denyDomains: ["other.example"] }), from: alice, to: stranger("matrix"), expect: "matrix" },
    { name: "allowDomains admits a listed peer inbound", m: fed("matrix", { allowDomains: ["stranger.example"] }), from: stranger("matrix"), to: alice, expect: "xmpp" },
    { name: "allowDomains refuses others inbound", m: fed("matrix", { allowDomains: ["friend.example"] }), from: stranger("matrix"), to: alice, expect: "PARLEY_REFUSED federation.allowDomains" },
    { name: "allowDomains refuses others outbound", m: fed("matrix", { allowDomains: ["friend.example"] }), from: alice, to: stranger("matrix"), expect: "PARLEY_REFUSED federation.allowDomains" },
    { name: "deny wins over allow", m: fed("matrix", { allowDomains: ["stranger.example"], denyDomains: ["stranger.example"] }), from: alice, to: stranger("matrix"), expect: "PARLEY_REFUSED federation.denyDomains" },
    { name: "direction deny wins over allowDomains", m: fed("matrix", { outbound: "deny", allowDomains: ["stranger.example"] }), from: alice, to: stranger("matrix"), expect: "PARLEY_REFUSED federation.outbound" },
  ]);
});

describe("router: T-2.4.4 kill switches and T-2.1.1 messaging and presence offered independently", () => {
  const off = (net: string) => company({ networks: { [net]: { enabled: false } } });
  const dom = (d: string, home: string, policy: Record<string, unknown>) => company({ domains: { [d]: { home, policy } } });
  table([
    { name: "recipient's network switched off", m: off("matrix"), from: alice, to: bob, expect: "PARLEY_DISABLED" },
    { name: "sender's network switched off", m: off("xmpp"), from: alice, to: bob, expect: "PARLEY_DISABLED" },
    { name: "another network switched off changes nothing", m: off("email"), from: alice, to: bob, expect: "matrix" },
    { name: "recipient's domain switched off", m: dom("matrix.example.org", "matrix", { enabled: false }), from: alice, to: bob, expect: "PARLEY_DISABLED" },
    { name: "sender's domain switched off", m: dom("chat.example.org", "xmpp", { enabled: false }), from: alice, to: bob, expect: "PARLEY_DISABLED" },
    { name: "unlisted domains switched off by the defaults", m: company({ defaultPolicy: { enabled: false } }), from: alice, to: stranger("matrix"), expect: "PARLEY_DISABLED" },
    { name: "presence off: presence refused", m: dom("matrix.example.org", "matrix", { presence: false }), from: alice, to: bob, kind: "presence", expect: "PARLEY_DISABLED" },
    { name: "presence off: subscriptions refused", m: dom("matrix.example.org", "matrix", { presence: false }), from: alice, to: bob, kind: "subscription", expect: "PARLEY_DISABLED" },
    { name: "presence off: messages still flow", m: dom("matrix.example.org", "matrix", { presence: false }), from: alice, to: bob, kind: "message", expect: "matrix" },
    { name: "messaging off: messages refused", m: dom("matrix.example.org", "matrix", { messaging: false }), from: bob, to: alice, kind: "message", expect: "PARLEY_DISABLED" },
    { name: "messaging off: presence still flows", m: dom("matrix.example.org", "matrix", { messaging: false }), from: bob, to: alice, kind: "presence", expect: "xmpp" },
    { name: "a mailbox domain without presence", m: company(), from: alice, to: carol, kind: "presence", expect: "PARLEY_DISABLED" },
  ]);
});

describe("router: peers lists (RFC 2779 2.3.5: the refusal is neutral)", () => {
  const peers = (policy: Record<string, unknown>) => company({ domains: { "chat.example.org": { home: "xmpp", policy } } });
  table([
    { name: "sender's denyPeers refuses the recipient's domain", m: peers({ denyPeers: ["matrix.example.org"] }), from: alice, to: bob, expect: "PARLEY_REFUSED denyPeers" },
    { name: "recipient's denyPeers refuses the sender's domain", m: peers({ denyPeers: ["matrix.example.org"] }), from: bob, to: alice, expect: "PARLEY_REFUSED denyPeers" },
    { name: "denyPeers leaves other peers", m: peers({ denyPeers: ["matrix.example.org"] }), from: alice, to: carol, expect: "email" },
    { name: "allowPeers admits its peers", m: peers({ allowPeers: ["matrix.example.org"] }), from: alice, to: bob, expect: "matrix" },
    { name: "allowPeers refuses other listed domains", m: peers({ allowPeers: ["matrix.example.org"] }), from: alice, to: carol, expect: "PARLEY_REFUSED allowPeers" },
    { name: "allowPeers refuses unlisted domains", m: peers({ allowPeers: ["matrix.example.org"] }), from: stranger("matrix"), to: alice, expect: "PARLEY_REFUSED allowPeers" },
    { name: "defaults' denyPeers apply to unlisted senders", m: company({ defaultPolicy: { denyPeers: ["chat.example.org"] } }), from: stranger("matrix"), to: alice, expect: "PARLEY_REFUSED denyPeers" },
  ]);

  it("tells the sender nothing about which rule refused", () => {
    const r = route(peers({ denyPeers: ["matrix.example.org"] }), bob, alice, "message");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toBe("The gateway's policy does not allow this.");
    expect(r.error.message).not.toContain("matrix.example.org");
  });
});

describe("router: scale", () => {
  it("T-2.1.5 routes 10^4 random unlisted domains with no config change and no per-domain state", () => {
    const m = company();
    const before = { domains: m.domains.size, networks: m.networks.size };
    const nets = ["xmpp", "matrix", "email"];
    const rnd = (n: number) => Array.from({ length: n }, () => "abcdefghijklmnopqrstuvwxyz0123456789"[Math.floor(Math.random() * 36)]).join("");
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const domain = `${rnd(8)}.${rnd(3)}-${i}.example`;
      seen.add(domain);
      const net = nets[i % 3]!;
      const out = route(m, alice, endpoint(`u${i}@${domain}`, net), "message");
      const back = route(m, endpoint(`u${i}@${domain}`, net), bob, "presence");
      expect(out.ok && out.network).toBe(net);
      expect(back.ok && back.network).toBe("matrix");
      expect(policyFor(m, domain)).toBe(m.defaultPolicy);
    }
    expect(seen.size).toBe(10_000);
    expect({ domains: m.domains.size, networks: m.networks.size }).toEqual(before);
  });
});
