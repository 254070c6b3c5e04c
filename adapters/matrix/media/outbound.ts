/**
 * Files out to Matrix (issue 13): each attachment is uploaded to the homeserver's media
 * repository as the sending puppet and sent as the native msgtype (`m.image`, `m.audio`,
 * `m.video`, else `m.file`) with `filename` and `info` (mimetype, size, w/h, duration). One file
 * with text: the text is its caption (`body`, Matrix 1.10). Several files: the text first, then
 * one event per file.
 */
import { DeliveryError } from "../../../src/adapter/contract.js";
import type { AttachmentPart } from "../../../src/adapter/media.js";
import { isParleyError } from "../../../src/errors/parley-error.js";
import { domainOf } from "../../../src/model/address.js";
import { plainText, type Message } from "../../../src/model/message.js";
import { HOPS_KEY } from "../content.js";
import type { MatrixDeps } from "../deps.js";
import { upload } from "./http.js";
import { MATRIX } from "../config.js";

export function attachmentsOf(m: Message): AttachmentPart[] {
  return m.parts.filter((p): p is AttachmentPart => p.role === "attachment");
}

export function msgtypeForType(contentType: string): "m.image" | "m.audio" | "m.video" | "m.file" {
  const family = contentType.split("/")[0];
  return family === "image" ? "m.image" : family === "audio" ? "m.audio" : family === "video" ? "m.video" : "m.file";
}

/** `info` of a media event from what the store knows of the file. */
export function infoOf(p: AttachmentPart): Record<string, unknown> {
  return {
    mimetype: p.contentType, size: p.size,
    ...(p.width !== undefined && p.height !== undefined ? { w: p.width, h: p.height } : {}),
    ...(p.durationMs !== undefined ? { duration: p.durationMs } : {}),
  };
}

async function uploaded(d: MatrixDeps, p: AttachmentPart, puppet: string): Promise<string> {
  const media = d.ctx.media;
  if (!media) throw new DeliveryError("permanent", "unsupported", "this gateway does not carry files");
  let body;
  try {
    body = await media.open(p);
  } catch (e) {
    throw new DeliveryError("permanent", "unavailable", `${p.filename ?? "the file"} has expired from Parley's store`, { cause: e });
  }
  return upload(d.config, body, { contentType: p.contentType, size: p.size, filename: p.filename ?? "file" }, puppet);
}

/**
 * The event contents that carry a message with files, each file uploaded as `puppet`. Over the
 * recipient's limits (`domain`: the recipient's, or a linked room's server): a permanent failure,
 * which the sender is told in its own protocol.
 */
export async function fileContents(d: MatrixDeps, m: Message, puppet: string, textContent: () => Promise<Record<string, unknown>>, domain: string = domainOf(m.to.address)): Promise<Record<string, unknown>[]> {
  const files = attachmentsOf(m);
  const broken = d.ctx.media?.check(m.parts, { network: MATRIX, domain });
  if (broken) throw new DeliveryError("permanent", broken.info.reason, broken.message, { cause: broken });
  const text = plainText(m).trim();
  const out: Record<string, unknown>[] = [];
  if (text !== "" && files.length > 1) out.push(await textContent());
  for (const f of files) {
    let url: string;
    try {
      url = await uploaded(d, f, puppet);
    } catch (e) {
      if (isParleyError(e)) throw new DeliveryError("permanent", e.info.reason, e.message, { cause: e });
      throw e;
    }
    const filename = f.filename ?? "file";
    out.push({
      msgtype: msgtypeForType(f.contentType), body: files.length === 1 && text !== "" ? text : filename, filename, url, info: infoOf(f),
      [HOPS_KEY]: m.hops,
    });
  }
  return out;
}
