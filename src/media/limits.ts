/**
 * Limits per network and per domain (issue 13 §6): the domain's keys over the network's over the
 * default. Over a limit the adapter tells the sender in its own protocol.
 */
import type { AttachmentPart, MediaLimits, MediaScope } from "../adapter/media.js";
import type { Part } from "../model/message.js";
import { ParleyError } from "../errors/parley-error.js";
import type { MediaConfig } from "./config.js";

export function limitsFor(config: MediaConfig, scope: MediaScope): MediaLimits {
  const l = config.limits;
  const merged = { ...l.default, ...l.networks[scope.network], ...l.domains[scope.domain.toLowerCase()] };
  return {
    maxBytes: Math.min(merged.maxBytes ?? config.maxBlobBytes, config.maxBlobBytes),
    maxFiles: merged.maxFiles ?? 10,
    allowedTypes: merged.allowedTypes ?? [],
  };
}

export function typeAllowed(limits: MediaLimits, contentType: string): boolean {
  if (limits.allowedTypes.length === 0) return true;
  const family = `${contentType.split("/")[0]}/*`;
  return limits.allowedTypes.some((t) => t === contentType || t === family);
}

/** The first limit one attachment breaks, or undefined. */
export function checkAttachment(limits: MediaLimits, part: Pick<AttachmentPart, "size" | "contentType" | "filename">): ParleyError | undefined {
  const name = part.filename ?? "the file";
  if (part.size > limits.maxBytes) return new ParleyError("PARLEY_TOO_LARGE", `${name} is ${part.size} bytes; at most ${limits.maxBytes} are accepted`, { limit: limits.maxBytes });
  if (!typeAllowed(limits, part.contentType)) return new ParleyError("PARLEY_UNSUPPORTED", `${name} is ${part.contentType}, which is not accepted here`, { contentType: part.contentType });
  return undefined;
}

/** The first limit a message's attachments break, or undefined. */
export function checkParts(limits: MediaLimits, parts: readonly Part[]): ParleyError | undefined {
  const files = parts.filter((p): p is AttachmentPart => p.role === "attachment");
  if (files.length > limits.maxFiles) return new ParleyError("PARLEY_TOO_LARGE", `${files.length} files in one message; at most ${limits.maxFiles} are accepted`, { limit: limits.maxFiles });
  for (const f of files) {
    const e = checkAttachment(limits, f);
    if (e) return e;
  }
  return undefined;
}
