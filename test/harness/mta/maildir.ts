/** Read the Maildirs the private Postfix delivers into (virtual(8) writes `new/`). */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface MaildirMessage {
  readonly file: string;
  readonly raw: Buffer;
  /** Unfolded header value of the first occurrence of `name` (case-insensitive), or undefined. */
  header(name: string): string | undefined;
}

function headerOf(raw: Buffer, name: string): string | undefined {
  const end = raw.indexOf("\r\n\r\n") >= 0 ? raw.indexOf("\r\n\r\n") : raw.indexOf("\n\n");
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString("latin1").replace(/\r?\n[ \t]+/g, " ");
  const re = new RegExp(`^${name.replace(/[-]/g, "\\-")}:[ \\t]*(.*)$`, "im");
  return re.exec(head)?.[1]?.trim();
}

export function readMaildir(dir: string): MaildirMessage[] {
  const out: MaildirMessage[] = [];
  for (const sub of ["new", "cur"]) {
    const d = join(dir, sub);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).sort()) {
      const raw = readFileSync(join(d, f));
      out.push({ file: join(d, f), raw, header: (n) => headerOf(raw, n) });
    }
  }
  return out;
}

/** Resolve with the first message (already there or arriving) that matches. */
export async function waitForMail(dir: string, match: (m: MaildirMessage) => boolean, timeoutMs = 20_000): Promise<MaildirMessage> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = readMaildir(dir).find(match);
    if (found) return found;
    if (Date.now() > until) throw new Error(`no matching mail in ${dir} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
