/**
 * The media capability the core offers adapters as `ctx.media` (issue 13): one blob store, one
 * fetcher and one media listener shared by every adapter. An adapter never opens a URL a sender
 * named by itself, and never keeps files of its own.
 */
import type { Readable } from "node:stream";
import type { Part } from "../model/message.js";
import type { ParleyError } from "../errors/parley-error.js";

export type AttachmentPart = Extract<Part, { role: "attachment" }>;

/** Whose limits apply: the network and the domain of the sender (inbound) or recipient (outbound). */
export interface MediaScope {
  readonly network: string;
  readonly domain: string;
}

/** What the sender or the sender's network said about a file; the bytes are checked against it. */
export interface DeclaredMedia {
  readonly filename?: string;
  readonly contentType?: string;
  readonly width?: number;
  readonly height?: number;
  readonly durationMs?: number;
}

export interface MediaLimits {
  readonly maxBytes: number;
  readonly maxFiles: number;
  /** Empty: every type. Entries are `type/subtype` or `type/*`. */
  readonly allowedTypes: readonly string[];
}

export interface MediaPort {
  /**
   * Store bytes the adapter received through its own network's client (a Matrix download, a MIME
   * part) as an attachment. Rejects with ParleyError PARLEY_TOO_LARGE or PARLEY_UNSUPPORTED over
   * the scope's limits, PARLEY_UNAVAILABLE when the store is full.
   */
  store(source: Readable | Buffer, declared: DeclaredMedia, scope: MediaScope): Promise<AttachmentPart>;
  /**
   * Download a URL a sender named, through the one fetcher (no private addresses unless the admin
   * allowed the host by name), and store it. `headers` go to the first origin only.
   */
  fetch(url: string, declared: DeclaredMedia, scope: MediaScope, headers?: Readonly<Record<string, string>>): Promise<AttachmentPart>;
  /**
   * Keep bytes that are no attachment (an original message, a signed part relayed untouched) in
   * the same store: no media limits or type checks, only the store's own caps.
   */
  keep(source: Readable | Buffer): Promise<{ readonly blobRef: string; readonly size: number }>;
  /** The bytes of a stored attachment (or kept blob), streamed; rejects with PARLEY_NOT_FOUND once expired. */
  open(part: { readonly blobRef: string }): Promise<Readable>;
  /** A signed, expiring URL on Parley's media listener, or undefined when the listener is off. */
  publicUrl(part: AttachmentPart): string | undefined;
  limits(scope: MediaScope): MediaLimits;
  /** The first limit a message's attachments break for a scope (count, size, type), or undefined. */
  check(parts: readonly Part[], scope: MediaScope): ParleyError | undefined;
}
