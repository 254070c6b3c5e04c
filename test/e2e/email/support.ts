/**
 * Shared pieces of the email e2e tests: mappings, a DNS map served to mailauth through its
 * `resolver` hook (SPF, DKIM public keys, DMARC), test DKIM keys, and an adapter started against
 * the private Postfix with a FakeContext.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { dkimSign } from "mailauth";
import { EmailAdapter, emailAdapter, type EmailAdapterDeps } from "../../../adapters/email/index.js";
import { EmailConfigSchema, type EmailConfigInput } from "../../../adapters/email/config.js";
import { DirectoryBlobStore } from "../../../adapters/email/blobs.js";
import { emailAddressing } from "../../../adapters/email/address.js";
import { asNetworkId, endpoint } from "../../../src/model/address.js";
import type { DomainMappings } from "../../../src/mappings/types.js";
import { FakeContext, type FakeContextOptions } from "../../support/fake-context.js";
import { testMappings } from "../../support/mappings.js";
import type { MtaCoordinates } from "../../harness/mta/postfix.js";

export interface TestKey { readonly privateKey: string; readonly dnsValue: string }

export function testKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const der = publicKey.export({ type: "spki", format: "der" }).toString("base64");
  return { privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), dnsValue: `v=DKIM1; k=rsa; p=${der}` };
}

/** Keys: mailboxes of example.org and lenient.example sign as themselves; Parley signs chat domains. */
export const keys = { mailbox: testKey(), parley: testKey(), attacker: testKey() };

/** The test's DNS: TXT records only (A/MX lookups answer "no data"). */
export const dns: Record<string, string[]> = {
  "example.org": ["v=spf1 ip4:127.0.0.1 -all"],
  "_dmarc.example.org": ["v=DMARC1; p=reject"],
  "mail._domainkey.example.org": [keys.mailbox.dnsValue],
  "lenient.example": ["v=spf1 ip4:127.0.0.1 -all"],
  "_dmarc.lenient.example": ["v=DMARC1; p=reject"],
  "mail._domainkey.lenient.example": [keys.mailbox.dnsValue],
  "evil.test": ["v=spf1 ip4:127.0.0.1 -all"],
  "sel._domainkey.evil.test": [keys.attacker.dnsValue],
  "nodmarc.test": ["v=spf1 ip4:127.0.0.1 -all"],
  "mail._domainkey.nodmarc.test": [keys.mailbox.dnsValue],
  "relayed.test": ["v=spf1 ip4:192.0.2.1 -all"],
  "parley._domainkey.chat.example.org": [keys.parley.dnsValue],
  "parley._domainkey.gw.example.org": [keys.parley.dnsValue],
};

export async function resolver(name: string, type: string): Promise<string[][]> {
  // flaky.test: every lookup times out (a temporary DNS failure).
  if (/(^|\.)flaky\.test\.?$/i.test(name)) throw Object.assign(new Error(`timeout for ${name}`), { code: "ETIMEOUT" });
  const records = type === "TXT" ? dns[name.toLowerCase().replace(/\.$/, "")] : undefined;
  if (!records) throw Object.assign(new Error(`no ${type} for ${name}`), { code: "ENOTFOUND" });
  return records.map((r) => [r]);
}

export function emailMappings(): DomainMappings {
  return testMappings({
    networks: {
      xmpp: {}, matrix: {},
      email: { settings: { sharedDomains: { xmpp: "xmpp.gw.example.org", matrix: "matrix.gw.example.org" } } },
    },
    domains: {
      "chat.example.org": { home: "xmpp", appearsOn: { email: { mailDomain: "chat.example.org" } } },
      "matrix.example.org": { home: "matrix" },
      "example.org": { home: "email", policy: { acceptUnauthenticated: false } },
      "lenient.example": { home: "email", policy: { acceptUnauthenticated: true } },
      "nobody.example.org": { home: "email" },
    },
  });
}

export const alice = endpoint("alice@chat.example.org", "xmpp");
export const bob = endpoint("bob@matrix.example.org", "matrix");
export const carol = endpoint("carol@example.org", "email");

export function adapterConfig(mta: MtaCoordinates, overrides: Partial<EmailConfigInput> = {}) {
  return EmailConfigSchema.parse({
    listen: { host: "127.0.0.1", port: mta.parleyPort },
    hostname: "parley.test",
    outbound: { mode: "relay", host: "127.0.0.1", port: mta.smtpPort, opportunisticTLS: false, connectionTimeoutMs: 3000 },
    bounceAddress: "bounces@gw.example.org",
    dkim: [
      { domain: "chat.example.org", selector: "parley", privateKey: keys.parley.privateKey },
      { domain: "gw.example.org", selector: "parley", privateKey: keys.parley.privateKey },
    ],
    blobDir: mkdtempSync(join(mta.workDir, "blobs-")), // removed with the MTA work directory
    ...overrides,
  });
}

export async function startAdapter(mta: MtaCoordinates, overrides: Partial<EmailConfigInput> = {}, mappings = emailMappings(), decide?: FakeContextOptions["decide"], deps: Partial<EmailAdapterDeps> = {}) {
  const config = adapterConfig(mta, overrides);
  const ctx = new FakeContext({
    network: asNetworkId("email"), mappings, ...(decide ? { decide } : {}),
    addressing: new Map([[asNetworkId("email"), emailAddressing]]),
  });
  const adapter = new EmailAdapter(config, { resolver, blobs: new DirectoryBlobStore(config.blobDir), ...deps });
  await adapter.start(ctx);
  return { adapter, ctx, config, mappings, factory: emailAdapter };
}

/** An RFC 5322 message as a mail client writes it, DKIM-signed when a key is given. */
function encodeBody(text: string, encoding: "8bit" | "base64" | "quoted-printable"): string {
  if (encoding === "8bit") return text.replace(/\r?\n/g, "\r\n");
  const bytes = Buffer.from(text, "utf8");
  if (encoding === "base64") return bytes.toString("base64").replace(/.{76}/g, "$&\r\n");
  // RFC 2045 §6.7: every byte but printable ASCII other than "=" as =HH, soft breaks under 76.
  let out = "";
  let line = "";
  for (const b of bytes) {
    const t = b >= 0x21 && b <= 0x7e && b !== 0x3d ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, "0")}`;
    if (line.length + t.length > 73) { out += `${line}=\r\n`; line = ""; }
    line += t;
  }
  return out + line;
}

export async function composeMail(o: {
  from: string; to: string; subject?: string; text: string; messageId?: string; inReplyTo?: string; extraHeaders?: string[];
  sign?: { domain: string; selector: string; privateKey: string };
  /** How the UTF-8 body travels (default 8bit). */
  encoding?: "8bit" | "base64" | "quoted-printable";
}): Promise<Buffer> {
  const head = [
    `From: ${o.from}`, `To: ${o.to}`, `Subject: ${o.subject ?? "hello"}`, `Date: ${new Date().toUTCString()}`,
    `Message-ID: ${o.messageId ?? `<${Math.random().toString(36).slice(2)}@client.test>`}`,
    ...(o.inReplyTo ? [`In-Reply-To: ${o.inReplyTo}`, `References: ${o.inReplyTo}`] : []),
    ...(o.extraHeaders ?? []),
    "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", `Content-Transfer-Encoding: ${o.encoding ?? "8bit"}`,
  ];
  const raw = Buffer.from(`${head.join("\r\n")}\r\n\r\n${encodeBody(o.text, o.encoding ?? "8bit")}\r\n`, "utf8");
  if (!o.sign) return raw;
  const { signatures } = await dkimSign(raw, { signingDomain: o.sign.domain, selector: o.sign.selector, privateKey: o.sign.privateKey });
  return Buffer.concat([Buffer.from(signatures), raw]);
}

export const mailboxSigner = (domain: string) => ({ domain, selector: "mail", privateKey: keys.mailbox.privateKey });
