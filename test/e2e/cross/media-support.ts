/**
 * What real clients do with files, for the media e2e tests: an XMPP client uploads to Prosody's
 * mod_http_file_share (XEP-0363 slot request, then HTTP PUT) and sends the URL as XEP-0066 OOB
 * plus a body equal to it (as Conversations, Gajim and Dino do); a Matrix client downloads
 * through the authenticated media endpoint.
 */
import { mkdtempSync } from "node:fs";
import { dkimSign } from "mailauth";
import { simpleParser } from "mailparser";
import { createTransport } from "nodemailer";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProsodyCoordinates } from "../../harness/prosody/prosody.js";
import type { TestMatrixUser } from "../../harness/synapse/clients.js";
import { xml, type TestUser } from "../xmpp/support.js";

export const NS_UPLOAD = "urn:xmpp:http:upload:0";
export const NS_OOB = "jabber:x:oob";

/** XEP-0363 §4–5: request a slot from the upload component, PUT the bytes; resolves with the GET URL. */
export async function xmppUpload(user: TestUser, prosody: ProsodyCoordinates, data: Buffer, filename: string, contentType: string): Promise<string> {
  const slot = await user.xmpp.iqCaller.request(xml("iq", { type: "get", to: prosody.uploadDomain },
    xml("request", { xmlns: NS_UPLOAD, filename, size: String(data.length), "content-type": contentType })));
  const s = slot.getChild("slot", NS_UPLOAD)!;
  const put = s.getChild("put")!;
  const headers: Record<string, string> = { "content-type": contentType };
  for (const h of put.getChildren("header")) headers[String(h.attrs.name).toLowerCase()] = h.text();
  const res = await fetch(String(put.attrs.url), { method: "PUT", headers, body: new Uint8Array(data) });
  if (res.status !== 201 && res.status !== 200) throw new Error(`upload answered ${res.status}: ${await res.text()}`);
  return String(s.getChild("get")!.attrs.url);
}

/** A file message as XEP-0363 clients send it: body = URL, and the same URL as OOB. */
export function fileStanza(to: string, url: string, id: string) {
  return xml("message", { type: "chat", to, id }, xml("body", {}, url), xml("x", { xmlns: NS_OOB }, xml("url", {}, url)));
}

/** Download an `mxc://` URI as a Matrix user, through the authenticated media endpoint. */
export async function matrixDownload(user: TestMatrixUser, mxc: string): Promise<Buffer> {
  const [server, mediaId] = mxc.slice("mxc://".length).split("/");
  const res = await fetch(`${user.baseUrl}/_matrix/client/v1/media/download/${server}/${mediaId}`, { headers: { authorization: `Bearer ${user.user.accessToken}` } });
  if (!res.ok) throw new Error(`download of ${mxc} answered ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** Upload as a Matrix user; resolves with the `mxc://` URI. */
export async function matrixUpload(user: TestMatrixUser, data: Buffer, filename: string, contentType: string): Promise<string> {
  const res = await fetch(`${user.baseUrl}/_matrix/media/v3/upload?filename=${encodeURIComponent(filename)}`, {
    method: "POST", headers: { authorization: `Bearer ${user.user.accessToken}`, "content-type": contentType }, body: new Uint8Array(data),
  });
  const json = (await res.json()) as { content_uri?: string };
  if (!res.ok || !json.content_uri) throw new Error(`upload answered ${res.status}`);
  return json.content_uri;
}

/** A GET of a URL a recipient was sent (Parley's media listener), as a client would. */
export async function download(url: string): Promise<{ data: Buffer; contentType: string | null }> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return { data: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get("content-type") };
}

/** The `media` section for a test gateway: its own store, the listener on a free port, Prosody's upload host allowed. */
export function mediaConfig(prosody: ProsodyCoordinates, limits: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    dir: mkdtempSync(join(tmpdir(), "parley-media-e2e-")),
    listener: { enabled: true, port: 0, secret: "media-e2e-secret-0123456789" },
    fetch: { allowHosts: [prosody.uploadHost], connectTimeoutMs: 2_000, totalTimeoutMs: 10_000 },
    limits,
  };
}

/** A mail with attachments as a mail client composes it (nodemailer), DKIM-signed like composeMail. */
export async function mailWithFiles(o: { from: string; to: string; subject: string; text: string; files: readonly { name: string; type: string; data: Buffer }[]; sign: { domain: string; selector: string; privateKey: string } }): Promise<Buffer> {
  const t = createTransport({ streamTransport: true, buffer: true, newline: "windows" });
  const info = await t.sendMail({
    from: o.from, to: o.to, subject: o.subject, text: o.text, messageId: `<files-${Date.now()}-${Math.random().toString(36).slice(2)}@example.org>`,
    attachments: o.files.map((f) => ({ filename: f.name, contentType: f.type, content: f.data })),
  });
  const raw = info.message as Buffer;
  const { signatures } = await dkimSign(raw, { signingDomain: o.sign.domain, selector: o.sign.selector, privateKey: o.sign.privateKey });
  return Buffer.concat([Buffer.from(signatures), raw]);
}

/** The attachments of a delivered mail, as a mail client shows them. */
export async function mailFiles(raw: Buffer): Promise<{ text: string; files: { name: string | undefined; type: string; data: Buffer }[] }> {
  const p = await simpleParser(raw);
  return { text: p.text ?? "", files: p.attachments.map((a) => ({ name: a.filename, type: a.contentType, data: a.content })) };
}
