/**
 * Console sessions (issue 17): the admin logs in with the admin API's token once; the console
 * then holds a signed cookie (HttpOnly, SameSite=Strict, path /console) instead of the token.
 * Nothing is stored on the server: the cookie is `v1.<expiry>.<nonce>.<mac>`, the MAC keyed by
 * the admin token, so changing the token ends every session, and any Parley process with the
 * same token accepts it. Every form that changes something carries a CSRF token derived from the
 * session's nonce; a request without the matching one changes nothing.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const COOKIE = "parley_console";
const VERSION = "v1";

export interface Session {
  readonly nonce: string;
  readonly expires: number;
}

function equal(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}

export class ConsoleSessions {
  private readonly key: Buffer;

  constructor(private readonly token: string, private readonly ttlMs = 12 * 3600_000, private readonly now: () => number = Date.now) {
    this.key = createHash("sha256").update(`parley-console-session\0${token}`).digest();
  }

  private mac(text: string): string {
    return createHmac("sha256", this.key).update(text).digest("base64url");
  }

  /** Whether `presented` is the admin token (constant time). */
  tokenMatches(presented: string): boolean {
    return presented.length > 0 && equal(presented, this.token);
  }

  /** A new session's cookie value. */
  issue(): { value: string; session: Session } {
    const session = { nonce: randomBytes(16).toString("base64url"), expires: this.now() + this.ttlMs };
    const body = `${VERSION}.${session.expires}.${session.nonce}`;
    return { value: `${body}.${this.mac(body)}`, session };
  }

  /** The session a cookie value stands for, if it is ours and not expired. */
  verify(value: string | undefined): Session | undefined {
    if (!value) return undefined;
    const parts = value.split(".");
    if (parts.length !== 4 || parts[0] !== VERSION) return undefined;
    const [, exp, nonce, mac] = parts as [string, string, string, string];
    if (!equal(mac, this.mac(`${VERSION}.${exp}.${nonce}`))) return undefined;
    const expires = Number(exp);
    if (!Number.isFinite(expires) || expires <= this.now()) return undefined;
    return { nonce, expires };
  }

  csrfFor(session: Session): string {
    return this.mac(`csrf.${session.nonce}`);
  }

  csrfMatches(session: Session, presented: unknown): boolean {
    return typeof presented === "string" && presented.length > 0 && equal(presented, this.csrfFor(session));
  }

  cookie(value: string): string {
    return `${COOKIE}=${value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.ttlMs / 1000)}`;
  }
}

export const clearedCookie = `${COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0`;

/** The value of cookie `name` in a Cookie header. */
export function cookieValue(header: string | undefined, name = COOKIE): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Failed logins allowed per window before the login form answers 429 for the rest of it
 * (guessing a 16+ character token is hopeless anyway; this keeps the log and the CPU quiet).
 */
export class LoginThrottle {
  private windowStart = 0;
  private failures = 0;
  constructor(private readonly max = 20, private readonly windowMs = 60_000, private readonly now: () => number = Date.now) {}

  blocked(): boolean {
    if (this.now() - this.windowStart >= this.windowMs) { this.windowStart = this.now(); this.failures = 0; }
    return this.failures >= this.max;
  }

  failed(): void { this.failures++; }
}
