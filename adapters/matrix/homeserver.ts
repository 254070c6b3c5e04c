/**
 * Client-server calls to the homeserver as the bot or a puppet, through matrix-js-sdk with the
 * application service's `as_token` and `user_id` masquerading (Matrix spec, Application Service
 * API "Identity assertion"). One cheap client per user id, no /sync (STACK.md, Matrix).
 */
import { createClient, Method, type IRequestOpts, type MatrixClient } from "matrix-js-sdk";
import type { Logger as SdkLogger } from "matrix-js-sdk/lib/logger.js";

export { Method };

const quiet: SdkLogger = {
  trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined,
  getChild: () => quiet,
};

export type QueryParams = Record<string, string>;

export class Homeserver {
  private readonly clients = new Map<string, MatrixClient>();

  constructor(private readonly opts: { baseUrl: string; asToken: string; timeoutMs: number }) {}

  private client(userId: string): MatrixClient {
    let c = this.clients.get(userId);
    if (!c) {
      c = createClient({
        baseUrl: this.opts.baseUrl, accessToken: this.opts.asToken, userId,
        queryParams: { user_id: userId }, logger: quiet, localTimeoutMs: this.opts.timeoutMs,
      });
      if (this.clients.size >= 10_000) this.clients.delete(this.clients.keys().next().value!);
      this.clients.set(userId, c);
    }
    return c;
  }

  /** A client-server API call (path after `/_matrix/client/v3`) made as `userId`. */
  request<T>(userId: string, method: Method, path: string, body?: Record<string, unknown>, query?: QueryParams): Promise<T> {
    return this.client(userId).http.authedRequest<T>(method, path, query, body);
  }

  /** A call under another prefix (e.g. `/_matrix/client/v1` for the application-service ping). */
  requestPrefixed<T>(userId: string, method: Method, prefix: string, path: string, body?: Record<string, unknown>): Promise<T> {
    // Node's RequestInit types make `priority` required; the SDK does not need it.
    return this.client(userId).http.authedRequest<T>(method, path, undefined, body, { prefix } as IRequestOpts);
  }

  close(): void {
    for (const c of this.clients.values()) c.stopClient();
    this.clients.clear();
  }
}

export const enc = encodeURIComponent;
