/**
 * `parley doctor`'s email checks: Parley's own SMTP listener and the relay answer EHLO, and the
 * mail domains of the appearances have MX records.
 */
import { connect } from "node:net";
import type { AdapterDoctorContext, Finding } from "../../src/adapter/declarations.js";
import { dnsFindings } from "../../src/cli/dns-check.js";
import { EMAIL } from "./address.js";
import type { EmailConfig } from "./config.js";

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

export async function emailDoctor(ctx: AdapterDoctorContext, c: EmailConfig): Promise<Finding[]> {
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
  const mx = [...ctx.mappings.domains.values()].flatMap((m) => {
    const mail = (m.appearsOn.get(EMAIL) as { mailDomain?: string } | undefined)?.mailDomain;
    return mail ? [{ name: mail, type: "MX" as const, why: "mail to this domain's users reaches Parley" }] : [];
  });
  return [...out, ...(await dnsFindings(mx, ctx.timeoutMs))];
}
