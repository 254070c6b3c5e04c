/**
 * Credentials inside URLs. The logger redacts secrets by key name (logger.ts), which cannot see a
 * password that is part of a value: `redis.url` may be `redis://:secret@host:6379` or
 * `rediss://user:secret@host`, a homeserver or media URL may carry `user:password@`, and a Redis
 * URL may carry `?password=`. Every place that prints a config value, a connection string or an
 * error message passes its text through {@link redactUrlSecrets} (the logger does it for every
 * line it writes, `errorMessage` for every error it words, the CLI for every line it prints).
 */

/** What stands in for a password or token taken out of a URL. */
export const URL_CENSOR = "***";

/** `scheme://userinfo@`: the userinfo ends at the first `@` before any `/`, `?`, `#`, space or quote. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"'<>`\\]*)@/gi;

/** Query parameters that carry a credential (ioredis reads `?password=`; tokens in links). */
const SECRET_PARAM = /([?&](?:password|pass|passwd|pwd|secret|token|access_token|auth|api_key|apikey)=)[^&\s#"'<>`\\]*/gi;

/**
 * `text` with every credential inside a URL replaced by `***`: the password of `user:password@`
 * (the user name is kept, it helps to see which login failed), a whole userinfo without a colon
 * (`https://TOKEN@host`: a bare token), and the value of a query parameter named like a secret.
 * Text without `://`, `password=` or the like comes back unchanged, at the cost of one scan.
 */
export function redactUrlSecrets(text: string): string {
  if (!text.includes("://") && !text.includes("=")) return text;
  return text
    .replace(USERINFO, (_m, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(":");
      if (userinfo === "") return `${scheme}@`;
      return colon < 0 ? `${scheme}${URL_CENSOR}@` : `${scheme}${userinfo.slice(0, colon)}:${URL_CENSOR}@`;
    })
    .replace(SECRET_PARAM, `$1${URL_CENSOR}`);
}
