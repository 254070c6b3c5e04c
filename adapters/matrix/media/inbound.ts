/**
 * Files in from Matrix (issue 13): `m.image`, `m.file`, `m.audio` and `m.video` with their `info`
 * (client-server API "m.room.message msgtypes"), downloaded through the authenticated media
 * endpoint as the bridge bot and stored with `ctx.media.store`. A `body` that differs from
 * `filename` is a caption (Matrix 1.10 "Media captions") and becomes the message's text.
 */
import type { AttachmentPart, DeclaredMedia } from "../../../src/adapter/media.js";
import { isParleyError, ParleyError } from "../../../src/errors/parley-error.js";
import { errorMessage } from "../../../src/errors/message.js";
import { domainOf, type Endpoint } from "../../../src/model/address.js";
import type { Part } from "../../../src/model/message.js";
import { MATRIX } from "../config.js";
import type { MatrixDeps } from "../deps.js";
import { download } from "./http.js";
import { isObj } from "../untrusted.js";

export const MEDIA_MSGTYPES: ReadonlySet<string> = new Set(["m.image", "m.file", "m.audio", "m.video"]);

type Obj = Record<string, unknown>;
const positiveInt = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) && v > 0 ? v : undefined);

/** What the event says of its file; the bytes are checked against it when stored. */
export function declaredOf(content: Obj): DeclaredMedia {
  const info = isObj(content.info) ? content.info : {};
  const filename = typeof content.filename === "string" ? content.filename : typeof content.body === "string" ? content.body : undefined;
  const w = positiveInt(info.w);
  const h = positiveInt(info.h);
  const duration = typeof info.duration === "number" && info.duration >= 0 ? info.duration : undefined;
  return {
    ...(filename ? { filename } : {}),
    ...(typeof info.mimetype === "string" ? { contentType: info.mimetype } : {}),
    ...(w && h ? { width: w, height: h } : {}),
    ...(duration !== undefined ? { durationMs: duration } : {}),
  };
}

/** The caption of a media event: its `body` when `filename` names the file separately. */
export function captionOf(content: Obj): string {
  return typeof content.filename === "string" && typeof content.body === "string" && content.body !== content.filename ? content.body : "";
}

/**
 * The parts of a media event: its caption (possibly empty) and the stored file. Rejects with a
 * ParleyError whose text the sender reads in a notice (encrypted, too large, type not accepted).
 */
export async function mediaParts(d: MatrixDeps, content: Obj, from: Endpoint): Promise<Part[]> {
  const media = d.ctx.media;
  if (!media) throw new ParleyError("PARLEY_UNSUPPORTED", "this gateway does not carry files");
  if (isObj(content.file)) throw new ParleyError("PARLEY_UNSUPPORTED", "the file is end-to-end encrypted and cannot be bridged");
  if (typeof content.url !== "string") throw new ParleyError("PARLEY_INVALID_EVENT", "the file has no url");
  const scope = { network: MATRIX, domain: domainOf(from.address) };
  const declared = declaredOf(content);
  const limits = media.limits(scope);
  const info = isObj(content.info) ? content.info : {};
  const claimed = positiveInt(info.size);
  if (claimed !== undefined && claimed > limits.maxBytes) {
    throw new ParleyError("PARLEY_TOO_LARGE", `${declared.filename ?? "the file"} is ${claimed} bytes; at most ${limits.maxBytes} are accepted`);
  }
  const got = await download(d.config, content.url, d.bot, 120_000);
  if (got.length !== undefined && got.length > limits.maxBytes) {
    got.body.destroy();
    throw new ParleyError("PARLEY_TOO_LARGE", `${declared.filename ?? "the file"} is ${got.length} bytes; at most ${limits.maxBytes} are accepted`);
  }
  const part: AttachmentPart = await media.store(got.body, { ...declared, contentType: declared.contentType ?? got.contentType }, scope);
  return [{ role: "text", body: captionOf(content) }, part];
}

/**
 * {@link mediaParts}, or the reason the sender is told when the file is not carried (a limit, a
 * refused type, encryption; "the file could not be fetched" for anything internal). `eventId` is logged.
 */
export async function mediaPartsOrWhy(d: MatrixDeps, content: Obj, from: Endpoint, eventId: string): Promise<Part[] | string> {
  try {
    return await mediaParts(d, content, from);
  } catch (e) {
    d.log.info({ eventId, err: errorMessage(e) }, "file not bridged");
    return isParleyError(e) && e.code !== "PARLEY_INTERNAL" ? e.message : "the file could not be fetched";
  }
}
