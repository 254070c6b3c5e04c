/**
 * Sender authentication (issue 5 §2; DESIGN §5; RFC 2779 5.1.1): SPF (RFC 7208) on the connecting
 * IP — or, behind a configured trusted relay, on the IP in the `Received:` header that relay added —
 * DKIM (RFC 6376), DMARC (RFC 7489) and ARC (RFC 8617), checked by mailauth.
 *
 * The `From:` address is trusted only when DMARC passes; for a From domain that publishes no DMARC
 * record, when an aligned DKIM signature (mailauth's relaxed alignment, RFC 7489 §3.1.1, on the
 * Public Suffix List) or an SPF pass for exactly the From domain (strict, RFC 7489 §3.1.2: without
 * a PSL of our own, relaxed SPF alignment could pair evil.co.uk with victim.co.uk) proves it.
 * Anything else is unverified, and a spoofed From never becomes a trusted sender.
 *
 * A DKIM signature with `l=` that leaves part of the body unsigned proves nothing when it is all
 * that authenticates the message (a replay with an appended paragraph, or a rewrapped body, would
 * pass DMARC): the sender is then unverified, and the domain's `acceptUnauthenticated` policy
 * decides between refusing (550 5.7.1) and bridging marked `[unverified sender]`.
 */
import { authenticate, type AuthenticateResult, type DNSResolver } from "mailauth";
import type { Authentication } from "../../src/model/common.js";

export interface AuthInput {
  readonly ip: string;
  readonly helo: string;
  /** MAIL FROM, empty for the null sender. */
  readonly mailFrom: string;
  /** The connecting IP is a trusted relay: take the client from its `Received:` header. */
  readonly viaTrustedRelay: boolean;
  /** authserv-id (RFC 8601) */
  readonly mta: string;
  readonly resolver?: DNSResolver | undefined;
}

/** Email's mechanisms in the core's network-neutral words (src/model/common.ts). */
export const NEUTRAL_METHOD = {
  dmarc: "domain-policy",
  dkim: "signature",
  spf: "sending-host",
  none: "none",
} as const satisfies Record<SenderVerdict["method"], Authentication["method"]>;

export interface SenderVerdict {
  /** The From address is proved. */
  readonly trusted: boolean;
  readonly method: "dmarc" | "dkim" | "spf" | "none";
  /** SPF or DKIM aligned with the From domain: DSNs may go back to this sender (no backscatter). */
  readonly aligned: boolean;
  /** e.g. "dmarc=fail spf=pass dkim=none arc=none header.from=example.org" */
  readonly detail: string;
  /** The Authentication-Results header mailauth produced. */
  readonly authResults: string;
  readonly fromDomain: string | undefined;
  /** Not proved only because a DNS lookup failed temporarily: answer 4xx so the sender retries (RFC 7489 §6.6.2). */
  readonly temporary: boolean;
  /** The single From address exactly as authentication read it (undefined when not exactly one). */
  readonly fromAddress: string | undefined;
}

export function strictlyAligned(a: string | undefined, b: string | undefined): boolean {
  return !!a && !!b && a.toLowerCase().replace(/\.$/, "") === b.toLowerCase().replace(/\.$/, "");
}

/** Turn mailauth's result into a verdict (pure; exported for unit tests). */
export function verdictOf(r: AuthenticateResult, mailFrom: string): SenderVerdict {
  const froms = r.dkim.headerFrom ?? [];
  const fromAddr = froms.length === 1 ? froms[0] : undefined;
  const fromDomain = fromAddr?.includes("@") ? fromAddr.slice(fromAddr.lastIndexOf("@") + 1).toLowerCase() : undefined;
  const dkimPass = r.dkim.results.filter((d) => d.status.result === "pass");
  // mailauth sets status.aligned (relaxed, PSL-aware) against the header From; strict equality otherwise.
  const alignedPass = dkimPass.filter((d) => (d.status.aligned !== undefined ? !!d.status.aligned : strictlyAligned(d.signingDomain, fromDomain)));
  // RFC 6376 §8.2: a signature with l= covers only the first l bytes of the body; what follows is
  // anyone's. Such a signature proves nothing about the message as a whole (issue 11, class 3).
  const wholeBody = alignedPass.filter((d) => !((d.status as { underSized?: number }).underSized! > 0));
  const dkimAligned = wholeBody.length > 0;
  const spfResult = r.spf ? r.spf.status.result : "none";
  const spfDomain = r.spf ? r.spf.domain : mailFrom.slice(mailFrom.lastIndexOf("@") + 1);
  const spfAligned = spfResult === "pass" && strictlyAligned(spfDomain, fromDomain);
  const dmarcResult = r.dmarc ? r.dmarc.status.result : "none";
  const arcResult = r.arc ? r.arc.status.result : "none";
  const single = froms.length === 1 && r.dkim.fromFields <= 1;
  const dmarcSpf = !!(r.dmarc && (r.dmarc as { alignment?: { spf?: { result?: unknown } } }).alignment?.spf?.result);
  const partialOnly = alignedPass.length > 0 && !dkimAligned && !dmarcSpf && !spfAligned;
  let method: SenderVerdict["method"] = "none";
  if (partialOnly) method = "none";
  else if (single && dmarcResult === "pass") method = "dmarc";
  else if (single && dmarcResult === "none" && dkimAligned) method = "dkim";
  else if (single && dmarcResult === "none" && spfAligned) method = "spf";
  const dkimWord = partialOnly ? "pass-partial-body(l=)" : dkimPass.length ? "pass" : r.dkim.results[0]?.status.result ?? "none";
  const detail = `dmarc=${dmarcResult} spf=${spfResult} dkim=${dkimWord} arc=${arcResult} header.from=${fromDomain ?? "?"}`;
  const temp = (x: string) => x === "temperror" || x === "temperr";
  const temporary = method === "none" && (temp(dmarcResult) || temp(spfResult) || r.dkim.results.some((d) => temp(d.status.result)));
  return {
    trusted: method !== "none", method, temporary, aligned: single && (dkimAligned || spfAligned),
    detail, authResults: r.headers, fromDomain, fromAddress: single ? fromAddr : undefined,
  };
}

export async function checkSender(raw: Buffer, input: AuthInput): Promise<SenderVerdict> {
  const r = await authenticate(raw, {
    ...(input.viaTrustedRelay ? { trustReceived: true } : { ip: input.ip, helo: input.helo }),
    sender: input.mailFrom,
    mta: input.mta,
    disableBimi: true,
    ...(input.resolver ? { resolver: input.resolver } : {}),
  });
  return verdictOf(r, input.mailFrom);
}
