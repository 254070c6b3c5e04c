/**
 * Files across networks with real clients (issue 13): an image, a PDF and a voice note from an
 * XMPP client (uploaded to Prosody's mod_http_file_share, sent as OOB) arrive in Matrix as
 * native media events with `info`, byte-identical; from Matrix (uploaded by the client) they
 * arrive on XMPP as OOB links to Parley's media listener, byte-identical. Hostile URLs never
 * reach the loopback canary; files over a limit are refused with the sender's own error.
 */
import { rmSync } from "node:fs";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { png, pdf, opusOfLength, sha256 } from "../../support/media-samples.js";
import { projectCanary } from "../../support/canary.js";
import { xml, type Stanza } from "../xmpp/support.js";
import { startCrossRig, type CrossRig } from "./rig.js";
import { NS_OOB, download, fileStanza, mailFiles, mailWithFiles, matrixDownload, matrixUpload, mediaConfig, xmppUpload } from "./media-support.js";
import { waitForMail } from "../../harness/mta/maildir.js";
import { smtpSend } from "../../harness/mta/smtp-client.js";
import { mailboxSigner } from "../email/support.js";

const SLOT = 9;
const XMPP_LIMIT = 200_000;
const EMAIL_LIMIT = 100_000;
const prosody = inject("prosody");
let r: CrossRig;
const canary = projectCanary(inject("canary"));
let dmRoom: string;

const samples = [
  { name: "photo.png", type: "image/png", msgtype: "m.image", data: png(64, 48, 3), w: 64, h: 48 },
  { name: "report.pdf", type: "application/pdf", msgtype: "m.file", data: pdf("Parley media e2e", 9_000) },
  { name: "voice.ogg", type: "audio/ogg", msgtype: "m.audio", data: opusOfLength(4_500, 12_000), duration: 4_500 },
] as const;

let mediaDir: string | undefined;
beforeAll(async () => {
  const media = mediaConfig(prosody, { networks: { xmpp: { maxBytes: XMPP_LIMIT }, email: { maxBytes: EMAIL_LIMIT } } });
  mediaDir = String(media.dir);
  r = await startCrossRig(SLOT, "media", undefined, media);
});
afterAll(async () => {
  await r?.stop();
  if (mediaDir) rmSync(mediaDir, { recursive: true, force: true });
});

const errorText = (s: Stanza): string => s.getChild("error")?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas") ?? "";

describe("files between XMPP and Matrix, with real clients", () => {
  it("an image, a PDF and a voice note from XMPP (mod_http_file_share + OOB) arrive in Matrix as native media, byte-identical", async () => {
    const bobJid = r.on("xmpp", r.bobEp);
    const alicePuppet = r.on("matrix", r.aliceEp);
    for (const [i, s] of samples.entries()) {
      const url = await xmppUpload(r.alice, prosody, s.data, s.name, s.type);
      await r.alice.send(fileStanza(bobJid, url, `media-x${i}`));
      const ev = await r.bob.waitForEvent((e) => e.getType() === "m.room.message" && e.getSender() === alicePuppet && e.getContent().filename === s.name, 30_000, `${s.name} in Matrix`);
      dmRoom = ev.getRoomId()!;
      const c = ev.getContent();
      expect(c.msgtype).toBe(s.msgtype);
      expect(c.body).toBe(s.name);
      expect(c.info).toMatchObject({ mimetype: s.type, size: s.data.length, ...("w" in s ? { w: s.w, h: s.h } : {}), ...("duration" in s ? { duration: s.duration } : {}) });
      expect(sha256(await matrixDownload(r.bob, String(c.url)))).toBe(sha256(s.data));
    }
  });

  it("an image with a caption, a PDF and a voice note from Matrix arrive on XMPP as OOB links that serve the same bytes", async () => {
    const bobJid = r.on("xmpp", r.bobEp);
    await r.bob.waitForEvent((e) => e.getRoomId() === dmRoom && e.getStateKey() === r.bob.userId && e.getContent().membership === "join", 30_000, "Bob in the DM");
    for (const s of samples) {
      const mxc = await matrixUpload(r.bob, s.data, s.name, s.type);
      const caption = s.msgtype === "m.image" ? "our new logo" : s.name;
      await r.bob.say(dmRoom, { msgtype: s.msgtype, body: caption, filename: s.name, url: mxc, info: { mimetype: s.type, size: s.data.length } });
      const m = await r.alice.inbox.next((x) => x.is("message") && x.getChild("x", NS_OOB)?.getChildText("desc") === s.name, 30_000, `${s.name} on XMPP`);
      expect(String(m.attrs.from).split("/")[0]).toBe(bobJid);
      const url = m.getChild("x", NS_OOB)!.getChildText("url")!;
      // The body is the URL, so clients show the file inline; a caption comes first, on its own.
      expect(m.getChildText("body")).toBe(url);
      if (s.msgtype === "m.image") {
        const captionAt = r.alice.inbox.seen.findIndex((x) => x.getChildText("body") === "our new logo");
        expect(captionAt).toBeGreaterThanOrEqual(0);
      }
      expect(new URL(url).pathname.endsWith(`/${s.name}`)).toBe(true);
      const got = await download(url);
      expect(got.contentType).toBe(s.type);
      expect(sha256(got.data)).toBe(sha256(s.data));
    }
  });
});

describe("files between email and chat, with real clients", () => {
  const files = samples.map((s) => ({ name: s.name, type: s.type, data: s.data }));
  const send = async (to: string, subject: string) => {
    const raw = await mailWithFiles({ from: "Carol <carol@example.org>", to, subject, text: `${subject}, see attached`, files, sign: mailboxSigner("example.org") });
    expect((await smtpSend(r.mta.smtpPort, { from: "carol@example.org", to: [to] }, raw)).final).toBe(250);
  };

  it("a mail with an image, a PDF and a voice note arrives in Matrix as its text and three native media events, byte-identical", async () => {
    await send(r.on("email", r.bobEp), "files for Bob");
    const carolPuppet = r.on("matrix", r.carolEp);
    await r.bob.waitForMessage("files for Bob, see attached", carolPuppet, 30_000);
    for (const s of samples) {
      const ev = await r.bob.waitForEvent((e) => e.getSender() === carolPuppet && e.getContent().filename === s.name, 30_000, `${s.name} from email`);
      expect(ev.getContent().msgtype).toBe(s.msgtype);
      expect(ev.getContent().info).toMatchObject({ mimetype: s.type, size: s.data.length, ...("duration" in s ? { duration: s.duration } : {}) });
      expect(sha256(await matrixDownload(r.bob, String(ev.getContent().url)))).toBe(sha256(s.data));
    }
  });

  it("the same mail to an XMPP user arrives as its text, then one OOB message per file, byte-identical", async () => {
    await send(r.on("email", r.aliceEp), "files for Alice");
    await r.alice.inbox.next((x) => x.is("message") && (x.getChildText("body") ?? "").startsWith("files for Alice"), 30_000, "Carol's mail text");
    const carolJid = r.on("xmpp", r.carolEp);
    for (const s of samples) {
      const m = await r.alice.inbox.next((x) => x.is("message") && String(x.attrs.from).startsWith(carolJid) && x.getChild("x", NS_OOB)?.getChildText("desc") === s.name, 30_000, `${s.name} from Carol`);
      const url = m.getChild("x", NS_OOB)!.getChildText("url")!;
      expect(m.getChildText("body")).toBe(url);
      const got = await download(url);
      expect(got.contentType).toBe(s.type);
      expect(sha256(got.data)).toBe(sha256(s.data));
    }
  });

  it("an image, a PDF and a voice note from XMPP and from Matrix reach a mailbox as MIME attachments with name, type and bytes", async () => {
    const carolJid = r.on("xmpp", r.carolEp);
    const carolPuppet = r.on("matrix", r.carolEp);
    const { room_id } = await r.bob.client.createRoom({ invite: [carolPuppet], is_direct: true });
    await r.bob.waitForEvent((e) => e.getRoomId() === room_id && e.getStateKey() === carolPuppet && e.getContent().membership === "join", 30_000, "the puppet joining");
    for (const [i, s] of samples.entries()) {
      const url = await xmppUpload(r.alice, prosody, s.data, s.name, s.type);
      await r.alice.send(fileStanza(carolJid, url, `to-carol-${i}`));
      const mxc = await matrixUpload(r.bob, s.data, s.name, s.type);
      await r.bob.say(room_id, { msgtype: s.msgtype, body: `from Bob: ${s.name}`, filename: s.name, url: mxc, info: { mimetype: s.type, size: s.data.length } });
    }
    for (const [who, ep] of [["Alice", r.aliceEp], ["Bob", r.bobEp]] as const) {
      for (const s of samples) {
        // The name on its own: Carol's inbox is shared with other files' tests (room-features mails her "muc-photo.png").
        const named = new RegExp(`(?<![\\w.-])${s.name.replace(/\./g, "\\.")}`);
        const got = await waitForMail(r.carolInbox, (m) => (m.header("from") ?? "").includes(r.on("email", ep)) && named.test(m.raw.toString()), 30_000);
        const mail = await mailFiles(got.raw);
        if (who === "Bob") expect(mail.text).toContain(`from Bob: ${s.name}`);
        expect(mail.files, `${s.name} from ${who}`).toHaveLength(1);
        expect(mail.files[0]).toMatchObject({ name: s.name, type: s.type });
        expect(sha256(mail.files[0]!.data)).toBe(sha256(s.data));
      }
    }
  });

  it("a file over email's limit goes to the mailbox as a link to Parley's media listener, and the mail says so", async () => {
    const big = pdf("big for email", EMAIL_LIMIT + 30_000);
    const url = await xmppUpload(r.alice, prosody, big, "big-report.pdf", "application/pdf");
    await r.alice.send(fileStanza(r.on("xmpp", r.carolEp), url, "big-to-carol"));
    const mail = await waitForMail(r.carolInbox, (m) => m.raw.includes("big-report.pdf") && m.raw.includes("too large to attach"), 30_000);
    const parsed = await mailFiles(mail.raw);
    expect(parsed.files).toHaveLength(0);
    const link = /https?:\/\/\S+\/big-report\.pdf/.exec(parsed.text)?.[0];
    expect(link).toBeDefined();
    expect(sha256((await download(link!)).data)).toBe(sha256(big));
  });

  it("a mail whose attachment is over email's limit is refused at SMTP: the sender's MTA returns it with the reason", async () => {
    const subject = `too big ${Date.now()}`;
    const raw = await mailWithFiles({ from: "carol@example.org", to: r.on("email", r.aliceEp), subject, text: "big", files: [{ name: "huge.pdf", type: "application/pdf", data: pdf("huge", EMAIL_LIMIT + 30_000) }], sign: mailboxSigner("example.org") });
    expect((await smtpSend(r.mta.smtpPort, { from: "carol@example.org", to: [r.on("email", r.aliceEp)] }, raw)).final).toBe(250);
    const bounce = await waitForMail(r.carolInbox, (m) => m.raw.includes(subject) && /too big for chat/i.test(m.raw.toString()), 60_000);
    expect(bounce.raw.toString()).toContain(String(EMAIL_LIMIT));
  });
});

describe("hostile and oversized files are refused, in the sender's own protocol", () => {
  it("OOB URLs to loopback, metadata, mapped-IPv6 and non-http addresses: a stanza error each, and the canary sees no connection", async () => {
    const bobJid = r.on("xmpp", r.bobEp);
    const urls = [
      `http://127.0.0.1:${canary.port}/secret.png`,
      `http://[::ffff:127.0.0.1]:${canary.port}/mapped.png`,
      "http://169.254.169.254/latest/meta-data/",
      `http://10.0.0.1:${canary.port}/private.png`,
      `file:///etc/passwd`,
    ];
    for (const [i, url] of urls.entries()) {
      await r.alice.send(fileStanza(bobJid, url, `hostile-${i}`));
      const err = await r.alice.inbox.next((s) => s.is("message") && s.attrs.type === "error" && s.attrs.id === `hostile-${i}`, 30_000, `error for ${url}`);
      expect(errorText(err)).toMatch(/was not carried/);
    }
    expect(await canary.connections()).toBe(0);
  });

  it("a file over XMPP's limit uploaded by an XMPP client is refused with policy-violation naming the limit", async () => {
    const big = pdf("too big", XMPP_LIMIT + 50_000);
    const url = await xmppUpload(r.alice, prosody, big, "big.pdf", "application/pdf");
    await r.alice.send(fileStanza(r.on("xmpp", r.bobEp), url, "too-big"));
    const err = await r.alice.inbox.next((s) => s.is("message") && s.attrs.type === "error" && s.attrs.id === "too-big", 30_000, "the too-large error");
    expect(err.getChild("error")?.getChild("policy-violation")).toBeDefined();
    expect(errorText(err)).toContain(String(XMPP_LIMIT));
  });

  it("a file from Matrix over XMPP's limit: the Matrix sender gets a notice naming the limit, nothing reaches XMPP", async () => {
    const big = pdf("too big for xmpp", XMPP_LIMIT + 50_000);
    const mxc = await matrixUpload(r.bob, big, "huge.pdf", "application/pdf");
    const eventId = await r.bob.say(dmRoom, { msgtype: "m.file", body: "huge.pdf", filename: "huge.pdf", url: mxc, info: { mimetype: "application/pdf", size: big.length } });
    const n = await r.bob.waitForEvent((e) => e.getRoomId() === dmRoom && e.getContent().msgtype === "m.notice" && String(e.getContent().body).includes("Not delivered"), 30_000, "the notice");
    expect(String(n.getContent().body)).toContain(String(XMPP_LIMIT));
    expect(eventId).toBeTruthy();
    expect(r.alice.inbox.seen.some((s) => s.getChild("x", NS_OOB)?.getChildText("desc") === "huge.pdf")).toBe(false);
  });

  it("plain text still crosses beside files", async () => {
    await r.alice.send(xml("message", { type: "chat", to: r.on("xmpp", r.bobEp), id: "plain" }, xml("body", {}, "no file here")));
    await r.bob.waitForMessage("no file here", r.on("matrix", r.aliceEp), 30_000);
  });
});

describe("stickers (m.sticker) and locations from a Matrix client", () => {
  const sticker = png(32, 32, 7);
  let carolRoom: string;

  it("a sticker in a DM reaches the XMPP user as an image (OOB link to the same bytes)", async () => {
    const mxc = await matrixUpload(r.bob, sticker, "cat.png", "image/png");
    // As Element sends a sticker: its own event type, the description as body, url and info.
    await r.bob.client.sendEvent(dmRoom, "m.sticker" as never, { body: "Happy cat", url: mxc, info: { mimetype: "image/png", w: 32, h: 32, size: sticker.length } } as never);
    const m = await r.alice.inbox.next((x) => x.is("message") && x.getChild("x", NS_OOB)?.getChildText("desc") === "Happy cat", 30_000, "the sticker on XMPP");
    expect(String(m.attrs.from).split("/")[0]).toBe(r.on("xmpp", r.bobEp));
    const url = m.getChild("x", NS_OOB)!.getChildText("url")!;
    expect(m.getChildText("body")).toBe(url);
    const got = await download(url);
    expect(got.contentType).toBe("image/png");
    expect(sha256(got.data)).toBe(sha256(sticker));
  });

  it("a sticker to an email user arrives as an image attachment", async () => {
    const carolPuppet = r.on("matrix", r.carolEp);
    const { room_id } = await r.bob.client.createRoom({ invite: [carolPuppet], is_direct: true });
    carolRoom = room_id;
    await r.bob.waitForEvent((e) => e.getRoomId() === room_id && e.getStateKey() === carolPuppet && e.getContent().membership === "join", 30_000, "the puppet joining");
    const mxc = await matrixUpload(r.bob, sticker, "cat.png", "image/png");
    await r.bob.client.sendEvent(room_id, "m.sticker" as never, { body: "Sticker for Carol", url: mxc, info: { mimetype: "image/png", w: 32, h: 32, size: sticker.length } } as never);
    const got = await waitForMail(r.carolInbox, (m) => (m.header("from") ?? "").includes(r.on("email", r.bobEp)) && m.raw.includes("Sticker for Carol"), 30_000);
    const mail = await mailFiles(got.raw);
    expect(mail.files).toHaveLength(1);
    expect(mail.files[0]).toMatchObject({ name: "Sticker for Carol", type: "image/png" });
    expect(sha256(mail.files[0]!.data)).toBe(sha256(sticker));
  });

  it("a location to an email user arrives as its geo: URI in the text, the description and the link in the HTML", async () => {
    await r.bob.say(carolRoom, { msgtype: "m.location", body: "Meet at the station", geo_uri: "geo:46.948,7.4474" });
    const got = await waitForMail(r.carolInbox, (m) => (m.header("from") ?? "").includes(r.on("email", r.bobEp)) && m.raw.includes("geo:46.948,7.4474"), 30_000);
    const mail = await simpleParser(got.raw);
    expect(mail.text?.trim()).toBe("geo:46.948,7.4474");
    expect(mail.html).toContain("Meet at the station");
    expect(mail.html).toContain('href="geo:46.948,7.4474"');
  });
});
