/**
 * RFC 2779 5.4.9 (T-5.4.9) with real peers: an S/MIME signed mail (RFC 1847 multipart/signed,
 * made with `openssl cms -sign` and a key made for this run) submitted to Postfix reaches a real
 * Matrix user (authenticated media) and a real XMPP user (OOB link to Parley's media listener)
 * as its readable text plus the whole signed mail as one `.eml` file; that file, downloaded as a
 * client would, still verifies with `openssl cms -verify` against the signer's certificate.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dkimSign } from "mailauth";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { mailboxSigner } from "../email/support.js";
import { NS_OOB, download, matrixDownload, mediaConfig } from "./media-support.js";
import { startCrossRig, type CrossRig } from "./rig.js";

const SLOT = 15; // its own application-service slot (test/harness/synapse/global-setup.ts makes 16)
const FILE = "signed-message.eml";
let r: CrossRig;
let dir: string;
let mediaDir: string | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "parley-signed-"));
  // A signing certificate for carol@example.org, made for this run only.
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    "-subj", "/CN=Carol/emailAddress=carol@example.org"], { stdio: "ignore" });
  const media = mediaConfig(inject("prosody"));
  mediaDir = String(media.dir);
  r = await startCrossRig(SLOT, "signed", undefined, media);
});
afterAll(async () => {
  await r?.stop();
  for (const d of [dir, mediaDir]) if (d) rmSync(d, { recursive: true, force: true });
});

/** What a mail client does with a signed `.eml`: verify the signature over the signed part against the signer's certificate. */
function verifies(eml: Buffer): { ok: boolean; content: string } {
  const file = join(dir, `check-${Math.random().toString(36).slice(2)}.eml`);
  writeFileSync(file, eml);
  const v = spawnSync("openssl", ["cms", "-verify", "-in", file, "-CAfile", join(dir, "cert.pem"), "-purpose", "any"], { encoding: "latin1" });
  return { ok: v.status === 0, content: v.stdout };
}

/** An S/MIME signed mail as a mail client sends it: `openssl cms -sign` (detached), headers, DKIM. */
async function signedMail(to: string, text: string): Promise<Buffer> {
  const body = join(dir, "body.txt");
  writeFileSync(body, `Content-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n`);
  const smime = execFileSync("openssl", ["cms", "-sign", "-in", body, "-signer", join(dir, "cert.pem"), "-inkey", join(dir, "key.pem")]).toString("latin1");
  const head = [`From: Carol <carol@example.org>`, `To: ${to}`, `Subject: signed for you`, `Date: ${new Date().toUTCString()}`, `Message-ID: <signed-${Date.now()}-${Math.random().toString(36).slice(2)}@example.org>`];
  const raw = Buffer.from(`${head.join("\r\n")}\r\n${smime.replace(/\r?\n/g, "\r\n")}`, "latin1");
  expect(verifies(raw).ok).toBe(true); // signed as sent
  const s = mailboxSigner("example.org");
  const key = { signingDomain: s.domain, selector: s.selector, privateKey: s.privateKey };
  const { signatures } = await dkimSign(raw, { ...key, signatureData: [key] });
  expect(signatures).toContain("DKIM-Signature");
  return Buffer.concat([Buffer.from(signatures), raw]);
}

async function send(to: string, text: string): Promise<void> {
  expect((await smtpSend(r.mta.smtpPort, { from: "carol@example.org", to: [to] }, await signedMail(to, text))).final).toBe(250);
}

describe("T-5.4.9 a signed mail still verifies after bridging, with real clients", () => {
  it("the verifier says no to a signed mail changed by one byte", async () => {
    const raw = await signedMail("x@example.net", "one byte will change");
    expect(verifies(Buffer.from(raw.toString("latin1").replace("one byte", "One byte"), "latin1")).ok).toBe(false);
  });

  it("Matrix: the text arrives, and the whole signed mail as an m.file whose signature verifies", async () => {
    const text = `signed for Bob ${Date.now()}`;
    await send(r.on("email", r.bobEp), text);
    const carol = r.on("matrix", r.carolEp);
    await r.bob.waitForMessage(text, carol, 30_000);
    const ev = await r.bob.waitForEvent((e) => e.getSender() === carol && e.getContent().filename === FILE, 30_000, "the signed mail as a file");
    expect(ev.getContent()).toMatchObject({ msgtype: "m.file", info: { mimetype: "message/rfc822" } });
    const eml = await matrixDownload(r.bob, String(ev.getContent().url));
    const v = verifies(eml);
    expect(v.ok).toBe(true);
    expect(v.content).toContain(text);
    // The lone detached signature proves nothing without the signed bytes: it is not sent on its own.
    expect(r.bob.client.getRoom(ev.getRoomId())?.getLiveTimeline().getEvents().some((e) => e.getContent().filename === "smime.p7s")).toBe(false);
  });

  it("XMPP: the text arrives without a placeholder, and the whole signed mail as an OOB file whose signature verifies", async () => {
    const text = `signed for Alice ${Date.now()}`;
    await send(r.on("email", r.aliceEp), text);
    const carol = r.on("xmpp", r.carolEp);
    const said = await r.alice.inbox.next((x) => x.is("message") && (x.getChildText("body") ?? "").includes(text), 30_000, "Carol's signed mail text");
    expect(said.getChildText("body")).not.toMatch(/not shown/);
    const m = await r.alice.inbox.next((x) => x.is("message") && String(x.attrs.from).startsWith(carol) && x.getChild("x", NS_OOB)?.getChildText("desc") === FILE, 30_000, "the signed mail as a file");
    const got = await download(m.getChild("x", NS_OOB)!.getChildText("url")!);
    expect(got.contentType).toBe("message/rfc822");
    const v = verifies(got.data);
    expect(v.ok).toBe(true);
    expect(v.content).toContain(text);
    expect(r.alice.inbox.seen.some((x) => x.getChild("x", NS_OOB)?.getChildText("desc") === "smime.p7s")).toBe(false);
  });
});
