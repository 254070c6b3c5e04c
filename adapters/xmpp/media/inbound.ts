/**
 * Files in from XMPP (issue 13): a XEP-0066 out-of-band URL (`<x xmlns='jabber:x:oob'><url/>`),
 * which is how Conversations, Gajim and Dino send a XEP-0363 upload (body = the same URL), or a
 * body that is only a URL on one of the admin's upload hosts. Every URL is downloaded through
 * `ctx.media.fetch` (the one fetcher: no private addresses unless the admin named the host) and
 * stored; the message then carries the file by reference. A body equal to the URL is not a caption.
 */
import type { AttachmentPart, MediaScope } from "../../../src/adapter/media.js";
import { ParleyError, isParleyError } from "../../../src/errors/parley-error.js";
import { domainOf, type Endpoint } from "../../../src/model/address.js";
import type { Part } from "../../../src/model/message.js";
import { XMPP } from "../address.js";
import type { XmlElement } from "../connection.js";
import { errorFor, type StanzaErrorSpec } from "../errors.js";
import { replyError, type XmppRuntime } from "../stanza.js";
import { errorMessage } from "../../../src/errors/message.js";

export const NS_OOB = "jabber:x:oob";

/** At most this many URLs of one stanza are fetched (the media limits cap files per message too). */
const MAX_OFFERS = 10;

export interface Offer {
  readonly url: string;
  readonly desc?: string;
}

function isHttpUrl(s: string): boolean {
  return /^https?:\/\/\S+$/i.test(s);
}

/** The files a stanza offers by URL: its OOB URLs, or a bare body URL on an upload host. */
export function offeredFiles(el: XmlElement, bodyTexts: readonly string[], uploadHosts: readonly string[]): Offer[] {
  const offers: Offer[] = [];
  for (const x of el.getChildren("x", NS_OOB).slice(0, MAX_OFFERS)) {
    const url = x.getChildText("url")?.trim();
    if (!url) continue;
    const desc = x.getChildText("desc")?.trim();
    offers.push({ url, ...(desc ? { desc } : {}) });
  }
  if (offers.length > 0) return offers;
  const body = bodyTexts.length === 1 ? bodyTexts[0]!.trim() : "";
  if (!isHttpUrl(body)) return [];
  const host = new URL(body).hostname.toLowerCase();
  return uploadHosts.some((h) => h.toLowerCase() === host) ? [{ url: body }] : [];
}

/** Whether a body is only the URL of an offered file (then it is no caption). */
export function bodyIsOffer(body: string, offers: readonly Offer[]): boolean {
  const b = body.trim();
  return offers.some((o) => o.url === b);
}

/**
 * Download and store every offered file. Rejects with a ParleyError whose text names the file
 * and why (a refused address, too large, a type not accepted): the sender gets it as a stanza error.
 */
export async function fetchOffers(rt: XmppRuntime, offers: readonly Offer[], scope: MediaScope): Promise<AttachmentPart[]> {
  const media = rt.ctx.media;
  if (!media || offers.length === 0) return [];
  const limits = media.limits(scope);
  if (offers.length > limits.maxFiles) {
    throw new ParleyError("PARLEY_TOO_LARGE", `${offers.length} files in one message; at most ${limits.maxFiles} are accepted`);
  }
  const parts: AttachmentPart[] = [];
  for (const o of offers) {
    try {
      parts.push(await media.fetch(o.url, {}, scope));
    } catch (e) {
      const err = isParleyError(e) ? e : new ParleyError("PARLEY_UNAVAILABLE", errorMessage(e));
      rt.log.info({ url: o.url.slice(0, 200), code: err.code, reason: err.details.reason, err: err.message }, "file offered by URL not fetched");
      throw new ParleyError(err.code, `The file ${o.url.slice(0, 200)} was not carried: ${err.message}`, err.details);
    }
  }
  return parts;
}

/**
 * The stanza error for a file not carried. A download that timed out or that the server refused
 * says so (its text names the file), rather than the neutral "try later" of a gateway failure.
 */
export function fetchError(e: unknown): StanzaErrorSpec {
  if (isParleyError(e, "PARLEY_UNAVAILABLE") && e.details.reason === "timeout") return { type: "wait", condition: "remote-server-timeout", text: e.message };
  if (isParleyError(e, "PARLEY_UNAVAILABLE") && e.details.reason === "status") return { type: "wait", condition: "remote-server-not-found", text: e.message };
  return errorFor(e);
}

type TextPart = { role: "text"; body: string; lang?: string | undefined };

/**
 * The parts of a message with its offered files fetched and added (a body that is only a file's
 * URL dropped), or undefined once the sender was sent a stanza error saying which file failed.
 */
export async function withFiles(rt: XmppRuntime, el: XmlElement, sender: Endpoint, texts: readonly TextPart[]): Promise<Part[] | undefined> {
  const offers = rt.ctx.media ? offeredFiles(el, texts.map((t) => t.body), rt.config.uploadHosts) : [];
  if (offers.length === 0) return [...texts];
  let files: AttachmentPart[];
  try {
    files = await fetchOffers(rt, offers, { network: XMPP, domain: domainOf(sender.address) });
  } catch (e) {
    await replyError(rt, el, fetchError(e));
    return undefined;
  }
  const captions = texts.filter((t) => !bodyIsOffer(t.body, offers));
  return [...captions, ...files];
}
