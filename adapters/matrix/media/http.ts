/**
 * The media repository of the homeserver, as the application service (Matrix spec, client-server
 * API "Content repository"): downloads through the authenticated endpoint
 * `GET /_matrix/client/v1/media/download/{serverName}/{mediaId}`, uploads with
 * `POST /_matrix/media/v3/upload` as the puppet (`?user_id=`, Application Service API "Identity
 * assertion"). Bodies are streamed both ways, never held whole in memory.
 */
import { Readable } from "node:stream";
import type { ReadableStream as WebReadable } from "node:stream/web";
import { DeliveryError } from "../../../src/adapter/contract.js";
import { ParleyError } from "../../../src/errors/parley-error.js";
import type { MatrixConfig } from "../config.js";
import { errorMessage } from "../../../src/errors/message.js";

const MXC = /^mxc:\/\/([A-Za-z0-9.:[\]-]{1,255})\/([A-Za-z0-9_-]{1,255})$/;

export function parseMxc(uri: string): { server: string; mediaId: string } | undefined {
  const m = MXC.exec(uri);
  return m ? { server: m[1]!, mediaId: m[2]! } : undefined;
}

type Conf = Pick<MatrixConfig, "homeserverUrl" | "asToken" | "requestTimeoutMs">;

function url(c: Conf, path: string, query: Record<string, string>): string {
  return `${c.homeserverUrl.replace(/\/+$/, "")}${path}?${new URLSearchParams(query).toString()}`;
}

/** Download an `mxc://` file as `asUser`; the body streams. Rejects with a ParleyError the sender can read. */
export async function download(c: Conf, mxc: string, asUser: string, totalTimeoutMs: number): Promise<{ body: Readable; contentType?: string; length?: number }> {
  const ref = parseMxc(mxc);
  if (!ref) throw new ParleyError("PARLEY_INVALID_EVENT", "the file's mxc:// URI is not valid");
  const path = `/_matrix/client/v1/media/download/${encodeURIComponent(ref.server)}/${encodeURIComponent(ref.mediaId)}`;
  let res: Response;
  try {
    res = await fetch(url(c, path, { user_id: asUser, allow_redirect: "false" }), {
      headers: { authorization: `Bearer ${c.asToken}` }, signal: AbortSignal.timeout(totalTimeoutMs), redirect: "error",
    });
  } catch (e) {
    throw new ParleyError("PARLEY_UNAVAILABLE", `the homeserver did not hand out the file: ${errorMessage(e)}`);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new ParleyError(res.status >= 500 ? "PARLEY_UNAVAILABLE" : "PARLEY_NOT_FOUND", `the homeserver answered ${res.status} for the file`);
  }
  const length = res.headers.get("content-length");
  const type = res.headers.get("content-type");
  return {
    body: Readable.fromWeb(res.body as WebReadable<Uint8Array>),
    ...(type ? { contentType: type } : {}),
    ...(length !== null && /^\d+$/.test(length) ? { length: Number(length) } : {}),
  };
}

/** Upload a file as `asUser`; resolves with its `mxc://` URI. Failures are classified for the worker. */
export async function upload(c: Conf, body: Readable, meta: { contentType: string; size: number; filename: string }, asUser: string): Promise<string> {
  let res: Response;
  try {
    // A streamed request body needs `duplex: "half"` (fetch spec), which Node's RequestInit type lacks.
    const init: RequestInit & { duplex: "half" } = {
      method: "POST",
      headers: { authorization: `Bearer ${c.asToken}`, "content-type": meta.contentType, "content-length": String(meta.size) },
      body: Readable.toWeb(body) as ReadableStream<Uint8Array>,
      duplex: "half",
      signal: AbortSignal.timeout(Math.max(c.requestTimeoutMs, 120_000)),
    };
    res = await fetch(url(c, "/_matrix/media/v3/upload", { user_id: asUser, filename: meta.filename }), init);
  } catch (e) {
    body.destroy();
    throw new DeliveryError("transient", "unavailable", `uploading ${meta.filename}: ${errorMessage(e)}`, { cause: e });
  }
  const json = (await res.json().catch(() => ({}))) as { content_uri?: unknown; errcode?: unknown; retry_after_ms?: unknown };
  if (res.ok && typeof json.content_uri === "string") return json.content_uri;
  const detail = `${typeof json.errcode === "string" ? json.errcode : "HTTP"} ${res.status}`;
  if (res.status === 429) {
    const after = typeof json.retry_after_ms === "number" ? json.retry_after_ms : undefined;
    throw new DeliveryError("rate-limited", "rate-limited", `uploading ${meta.filename}: the homeserver asks us to slow down`, { nativeDetail: detail, ...(after !== undefined ? { retryAfterMs: after } : {}) });
  }
  if (res.status === 413) throw new DeliveryError("permanent", "too-large", `${meta.filename} is larger than the homeserver accepts`, { nativeDetail: detail });
  if (res.status >= 500 || res.status === 401) throw new DeliveryError("transient", "unavailable", `uploading ${meta.filename}: the homeserver answered ${detail}`, { nativeDetail: detail });
  throw new DeliveryError("permanent", "bad-request", `uploading ${meta.filename}: the homeserver refused it (${detail})`, { nativeDetail: detail });
}
