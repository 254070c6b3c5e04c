/**
 * What a file really is: its media type from its magic bytes (the `file-type` library), never
 * only from what the sender declared, and image dimensions (the `image-size` library) — both read
 * from the first bytes the blob store kept while streaming.
 */
import { fileTypeFromBuffer, supportedMimeTypes } from "file-type";
import { imageSize } from "image-size";

export interface SniffedType {
  /** The media type to carry: the sniffed one when the bytes are recognised. */
  readonly contentType: string;
  /** True when the declared type disagreed with the bytes and was replaced. */
  readonly corrected: boolean;
  readonly width?: number;
  readonly height?: number;
}

const GENERIC = "application/octet-stream";
const TOKEN = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** A declared type reduced to `type/subtype` in lower case, or undefined when malformed. */
export function normaliseType(declared: string | undefined): string | undefined {
  const t = declared?.split(";")[0]?.trim().toLowerCase();
  return t && TOKEN.test(t) ? t : undefined;
}

/**
 * Check a declared type against the bytes. Recognised bytes win (a PNG declared as PDF is a
 * PNG). Unrecognised bytes keep the declared type, unless that type is one `file-type` would
 * have recognised (an "image/png" that is no PNG): then it is only `application/octet-stream`.
 */
export async function sniff(head: Buffer, declared: string | undefined): Promise<SniffedType> {
  const claimed = normaliseType(declared);
  const found = await fileTypeFromBuffer(head);
  let contentType: string;
  if (found) contentType = normaliseType(found.mime) ?? GENERIC; // "audio/ogg; codecs=opus" → "audio/ogg"
  else if (claimed === undefined) contentType = GENERIC;
  else if (claimed.startsWith("image/") || supportedMimeTypes.has(claimed)) contentType = GENERIC; // claims a type its bytes are not
  else contentType = claimed;
  const corrected = claimed !== undefined && claimed !== contentType;
  return { contentType, corrected, ...dimensions(head, contentType) };
}

function dimensions(head: Buffer, contentType: string): { width?: number; height?: number } {
  if (!contentType.startsWith("image/")) return {};
  try {
    const d = imageSize(head);
    return d.width && d.height ? { width: d.width, height: d.height } : {};
  } catch {
    return {}; // dimensions are a nicety: a header past the kept bytes is simply unknown
  }
}
