/**
 * DNS records a network's doctor checks look up (SRV for XMPP clients, MX for mail), with a short
 * timeout: a missing record or a name not resolvable here is a note, never a failure (the
 * machine running `parley doctor` may not see the public DNS).
 */
import { Resolver } from "node:dns/promises";
import type { Finding } from "../adapter/declarations.js";
import { errorMessage } from "../errors/message.js";

export interface DnsQuery {
  readonly name: string;
  readonly type: "SRV" | "MX";
  /** What the record is needed for, e.g. "XMPP clients find the server". */
  readonly why: string;
}

export async function dnsFindings(queries: readonly DnsQuery[], timeoutMs: number): Promise<Finding[]> {
  const resolver = new Resolver({ timeout: Math.min(timeoutMs, 2_000), tries: 1 });
  const out: Finding[] = [];
  for (const q of queries) {
    try {
      const r = q.type === "SRV" ? await resolver.resolveSrv(q.name) : await resolver.resolveMx(q.name);
      const targets = r.map((x) => ("exchange" in x ? x.exchange : `${x.name}:${x.port}`)).join(", ");
      out.push({ check: `dns ${q.type} ${q.name}`, status: "ok", detail: targets });
    } catch (e) {
      const code = (e as { code?: string }).code ?? "";
      const missing = code === "ENOTFOUND" || code === "ENODATA";
      out.push({ check: `dns ${q.type} ${q.name}`, status: "note", detail: missing ? `no ${q.type} record (needed so that ${q.why})` : `not resolvable here (${code || errorMessage(e)})` });
    }
  }
  return out;
}
