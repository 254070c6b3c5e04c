/**
 * `parley doctor`'s per-network checks (the core's are in src/cli/doctor.ts). They live in bin/
 * because only bin/ may import adapters. Each is small: it talks to the peer the way Parley
 * would, and names what is wrong with its fix.
 */
import { Resolver } from "node:dns/promises";
import { connect } from "node:net";
import componentCore from "@xmpp/component-core";
import type xml from "@xmpp/xml";
import { componentDomains } from "../adapters/xmpp/address.js";
import type { XmppConfig } from "../adapters/xmpp/config.js";
import type { MatrixConfig } from "../adapters/matrix/index.js";
import { checkRegistrationFile } from "../adapters/matrix/registration.js";
import { matrixSettings } from "../adapters/matrix/address.js";
import type { EmailConfig } from "../adapters/email/index.js";
import { doctorCommand, type DoctorContext, type Finding, type LoadAll, type NetworkDoctor } from "../src/cli/doctor.js";
import type { CommandOutput } from "../src/cli/index.js";

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
    entity.start().catch(() => undefined);
  });
}

async function xmppChecks(ctx: DoctorContext, section: unknown): Promise<Finding[]> {
  const c = section as XmppConfig;
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
  return out;
}

async function matrixChecks(ctx: DoctorContext, section: unknown): Promise<Finding[]> {
  const c = section as MatrixConfig;
  const out: Finding[] = [];
  const base = c.homeserverUrl.replace(/\/+$/, "");
  const bot = `@${matrixSettings(ctx.mappings).botLocalpart}:${matrixSettings(ctx.mappings).serverName}`;
  try {
    const res = await fetch(`${base}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${c.asToken}` }, signal: AbortSignal.timeout(ctx.timeoutMs) });
    const body = (await res.json().catch(() => ({}))) as { user_id?: string; errcode?: string };
    if (res.ok && body.user_id === bot) out.push({ check: "matrix as_token", status: "ok", detail: `the homeserver knows the as_token as ${bot}` });
    else if (res.ok) out.push({ check: "matrix as_token", status: "fail", detail: `the as_token belongs to ${body.user_id ?? "?"}, not the bridge bot ${bot}`, fix: "networks.matrix.botLocalpart must be the registration's sender_localpart" });
    else out.push({ check: "matrix as_token", status: "fail", detail: `the homeserver refuses the as_token (${res.status} ${body.errcode ?? ""})`, fix: "load the registration (parley matrix registration --out FILE) in the homeserver (Synapse: app_service_config_files) and restart it; its as_token must equal adapters.matrix.asToken" });
  } catch (e) {
    out.push({ check: "matrix homeserver", status: "fail", detail: `${base} does not answer (${(e as Error).message})`, fix: "start the homeserver or fix adapters.matrix.homeserverUrl" });
    return out;
  }
  if (c.registrationFile === undefined) {
    out.push({ check: "matrix hs_token", status: "note", detail: "adapters.matrix.registrationFile is not set: cannot compare the tokens with the registration the homeserver loaded" });
  } else {
    try {
      await checkRegistrationFile(c.registrationFile, c);
      out.push({ check: "matrix registration", status: "ok", detail: `${c.registrationFile} has the config's id, as_token and hs_token` });
    } catch (e) {
      out.push({ check: "matrix registration", status: "fail", detail: (e as Error).message, fix: "the homeserver sends the registration's hs_token: copy its tokens into adapters.matrix (asToken/hsToken or their _FILE variables), or rewrite the file with parley matrix registration --out FILE and restart the homeserver" });
    }
  }
  // Matrix spec v1.7 "Pinging": the homeserver calls Parley's /_matrix/app/v1/ping with its hs_token.
  try {
    const res = await fetch(`${base}/_matrix/client/v1/appservice/${encodeURIComponent(c.appserviceId)}/ping`, {
      method: "POST", headers: { authorization: `Bearer ${c.asToken}`, "content-type": "application/json" }, body: "{}", signal: AbortSignal.timeout(ctx.timeoutMs * 2),
    });
    const body = (await res.json().catch(() => ({}))) as { errcode?: string; status?: number; error?: string };
    if (res.ok) out.push({ check: "matrix homeserver → parley", status: "ok", detail: "the homeserver reaches Parley's application-service listener and Parley accepts its hs_token" });
    else if (body.errcode === "M_BAD_STATUS" && (body.status === 401 || body.status === 403)) out.push({ check: "matrix hs_token", status: "fail", detail: `Parley refuses the homeserver's hs_token (${body.status})`, fix: "adapters.matrix.hsToken must equal the hs_token of the registration the homeserver loaded" });
    else if (body.errcode === "M_CONNECTION_FAILED" || body.errcode === "M_CONNECTION_TIMEOUT") out.push({ check: "matrix homeserver → parley", status: "fail", detail: `the homeserver cannot reach Parley's listener (${body.errcode})`, fix: `the registration's url must reach adapters.matrix.listen (${c.listen.host}:${c.listen.port}) from the homeserver` });
    else out.push({ check: "matrix homeserver → parley", status: "note", detail: `the homeserver's ping answered ${res.status} ${body.errcode ?? ""} ${body.error ?? ""}`.trim() });
  } catch (e) {
    out.push({ check: "matrix homeserver → parley", status: "note", detail: `ping not answered (${(e as Error).message})` });
  }
  return out;
}

/** Connect, read the 220 greeting, EHLO, QUIT. */
export function smtpEhlo(host: string, port: number, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    let buf = "";
    let stage: "greeting" | "ehlo" = "greeting";
    const done = (ok: boolean, detail: string) => { clearTimeout(timer); sock.destroy(); resolve({ ok, detail }); };
    const timer = setTimeout(() => done(false, `no answer within ${timeoutMs} ms`), timeoutMs);
    sock.on("error", (e) => done(false, e.message));
    sock.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      const m = /^(\d{3}) (.*)\r?\n/m.exec(buf);
      if (!m) return;
      buf = "";
      if (stage === "greeting") {
        if (m[1] !== "220") return done(false, `greeting ${m[1]} ${m[2]}`);
        stage = "ehlo";
        sock.write("EHLO parley-doctor\r\n");
      } else {
        sock.write("QUIT\r\n");
        done(m[1] === "250", `EHLO answered ${m[1]}`);
      }
    });
  });
}

async function emailChecks(ctx: DoctorContext, section: unknown): Promise<Finding[]> {
  const c = section as EmailConfig;
  const out: Finding[] = [];
  const host = c.listen.host === "0.0.0.0" || c.listen.host === "::" ? "127.0.0.1" : c.listen.host;
  const own = await smtpEhlo(host, c.listen.port, ctx.timeoutMs);
  out.push(own.ok
    ? { check: "email listener", status: "ok", detail: `Parley's SMTP listener ${host}:${c.listen.port} answers EHLO` }
    : { check: "email listener", status: "fail", detail: `Parley's SMTP listener ${host}:${c.listen.port}: ${own.detail}`, fix: "start Parley with its email adapter, or fix adapters.email.listen; the MX/relay of the gateway's mail domains must deliver there" });
  if (c.outbound.mode === "relay") {
    const relay = await smtpEhlo(c.outbound.host, c.outbound.port, ctx.timeoutMs);
    out.push(relay.ok
      ? { check: "email relay", status: "ok", detail: `the relay ${c.outbound.host}:${c.outbound.port} answers EHLO` }
      : { check: "email relay", status: "fail", detail: `the relay ${c.outbound.host}:${c.outbound.port}: ${relay.detail}`, fix: "start the MTA or fix adapters.email.outbound.host/port; until then mail to mailboxes is retried and then reported failed" });
  }
  return out;
}

/** SRV/MX for the configured domains, with a short timeout: "not resolvable here" is a note. */
async function dnsChecks(ctx: DoctorContext): Promise<Finding[]> {
  const resolver = new Resolver({ timeout: Math.min(ctx.timeoutMs, 2_000), tries: 1 });
  const queries: Array<{ name: string; type: "SRV" | "MX"; why: string }> = [];
  for (const [domain, m] of ctx.mappings.domains) {
    if (m.home === "xmpp") queries.push({ name: `_xmpp-client._tcp.${domain}`, type: "SRV", why: "XMPP clients find the server" });
    const mail = (m.appearsOn.get("email" as never) as { mailDomain?: string } | undefined)?.mailDomain;
    if (mail) queries.push({ name: mail, type: "MX", why: "mail to this domain's users reaches Parley" });
  }
  const out: Finding[] = [];
  for (const q of queries) {
    try {
      const r = q.type === "SRV" ? await resolver.resolveSrv(q.name) : await resolver.resolveMx(q.name);
      const targets = r.map((x) => ("exchange" in x ? x.exchange : `${x.name}:${x.port}`)).join(", ");
      out.push({ check: `dns ${q.type} ${q.name}`, status: "ok", detail: targets });
    } catch (e) {
      const code = (e as { code?: string }).code ?? "";
      const missing = code === "ENOTFOUND" || code === "ENODATA";
      out.push({ check: `dns ${q.type} ${q.name}`, status: "note", detail: missing ? `no ${q.type} record (needed so that ${q.why})` : `not resolvable here (${code || (e as Error).message})` });
    }
  }
  return out;
}

export const networkDoctors: readonly NetworkDoctor[] = [
  { network: "xmpp", run: xmppChecks },
  { network: "matrix", run: matrixChecks },
  { network: "email", run: emailChecks },
  { network: "*", run: async (ctx) => dnsChecks(ctx) },
];

/** `parley doctor …`: bin/parley.ts dispatches here with its config loader. */
export function doctorMain(args: readonly string[], loadAll: LoadAll): Promise<CommandOutput> {
  return doctorCommand(args, { loadAll, networks: networkDoctors });
}
