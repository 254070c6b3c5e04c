/**
 * `parley doctor`'s XMPP checks: the XEP-0114 handshake of every component domain with the
 * configured secret, and the SRV records XMPP clients use to find the home servers.
 */
import componentCore from "@xmpp/component-core";
import type xml from "@xmpp/xml";
import type { AdapterDoctorContext, Finding } from "../../src/adapter/declarations.js";
import { dnsFindings } from "../../src/cli/dns-check.js";
import { XMPP, componentDomains } from "./address.js";
import type { XmppConfig } from "./config.js";
import { openComponentStream } from "./domain-link.js";

type Handshake = "accepted" | "in-use" | "not-authorized" | "host-unknown" | "unreachable" | "timeout" | `error: ${string}`;

/** XEP-0114 §3 handshake for one component domain with the configured secret; closes at once. */
export function componentHandshake(host: string, port: number, domain: string, secret: string, timeoutMs: number): Promise<Handshake> {
  return new Promise((resolve) => {
    const entity = new componentCore.Component({ service: `xmpp://${host}:${port}`, domain });
    let done = false;
    const finish = (h: Handshake) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      entity.removeAllListeners();
      entity.on("error", () => undefined);
      void entity.stop().catch(() => undefined);
      entity.socket?.destroy();
      resolve(h);
    };
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    entity.on("error", (err: Error & { condition?: string; code?: string }) => {
      if (err.condition === "not-authorized") finish("not-authorized");
      else if (err.condition === "conflict") finish("in-use");
      else if (err.condition === "host-unknown") finish("host-unknown");
      else if (err.code === "ECONNREFUSED" || err.code === "EHOSTUNREACH" || err.code === "ENOTFOUND") finish("unreachable");
      else finish(`error: ${err.condition ?? err.message}`);
    });
    entity.on("open", (el: xml.Element) => {
      // Prosody checks the secret first, then refuses a second link with <conflict/>:
      // "in-use" therefore also means the secret is right.
      entity.authenticate(el.attrs.id ?? "", secret).then(() => {
        // Accepted: wait a moment for a conflict stream error, which follows the handshake.
        setTimeout(() => finish("accepted"), 300);
      }, () => undefined);
    });
    openComponentStream(entity, domain).catch(() => undefined);
  });
}

export async function xmppDoctor(ctx: AdapterDoctorContext, c: XmppConfig): Promise<Finding[]> {
  const domains = [...new Set([...componentDomains(ctx.mappings), ...c.extraDomains])];
  const out: Finding[] = [];
  for (const d of domains) {
    const h = await componentHandshake(c.host, c.port, d, c.componentSecret, ctx.timeoutMs);
    const check = `xmpp component ${d}`;
    switch (h) {
      case "accepted": out.push({ check, status: "ok", detail: "the secret is accepted (no Parley holds this link right now)" }); break;
      case "in-use": out.push({ check, status: "ok", detail: "the secret is accepted; the link is held by a running Parley" }); break;
      case "not-authorized": out.push({ check, status: "fail", detail: `${c.host}:${c.port} refuses the component secret`, fix: `make adapters.xmpp.componentSecret (or PARLEY_ADAPTERS__XMPP__COMPONENT_SECRET_FILE) equal to component_secret of Component "${d}" in the XMPP server's config, then restart Parley` }); break;
      case "host-unknown": out.push({ check, status: "fail", detail: `the XMPP server has no component "${d}"`, fix: `declare it in the XMPP server's config (Prosody: Component "${d}" with component_secret) and reload it` }); break;
      case "unreachable": out.push({ check, status: "fail", detail: `nothing listens at ${c.host}:${c.port}`, fix: "start the XMPP server, enable its component port (Prosody: component_ports, component_interfaces), or fix adapters.xmpp.host/port" }); break;
      default: out.push({ check, status: "fail", detail: `handshake with ${c.host}:${c.port}: ${h}`, fix: "check that adapters.xmpp.port is the server's component port (XEP-0114), not its client port" });
    }
  }
  const srv = [...ctx.mappings.domains.values()].filter((m) => m.home === XMPP)
    .map((m) => ({ name: `_xmpp-client._tcp.${m.domain}`, type: "SRV" as const, why: "XMPP clients find the server" }));
  return [...out, ...(await dnsFindings(srv, ctx.timeoutMs))];
}
