/**
 * A raw SMTP client for tests that must see each reply (RCPT refused with 5xx, DATA answered 4xx…):
 * nodemailer hides the per-stage replies. Pipelining is not used; every command waits its reply.
 */
import { connect, type Socket } from "node:net";

export interface SmtpExchange {
  /** Reply code per stage: greeting, ehlo, mail, each rcpt, data (354), and the final reply after the dot. */
  readonly greeting: number;
  readonly mail: number;
  readonly rcpt: readonly number[];
  /** Undefined when no recipient was accepted (DATA not attempted). */
  readonly data: number | undefined;
  readonly final: number | undefined;
  readonly finalText: string | undefined;
}

class Lines {
  private buf = "";
  private waiters: Array<(reply: { code: number; text: string }) => void> = [];
  constructor(private readonly sock: Socket) {
    sock.on("data", (d: Buffer) => {
      this.buf += d.toString("latin1");
      for (let m = /^(\d{3}) (.*)\r?\n/m.exec(this.buf); m; m = /^(\d{3}) (.*)\r?\n/m.exec(this.buf)) {
        this.buf = this.buf.slice(m.index + m[0].length);
        this.waiters.shift()?.({ code: Number(m[1]), text: m[2] ?? "" });
      }
    });
    sock.on("close", () => { for (const w of this.waiters.splice(0)) w({ code: 0, text: "closed" }); });
  }
  next(): Promise<{ code: number; text: string }> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  async cmd(line: string): Promise<{ code: number; text: string }> {
    const r = this.next();
    this.sock.write(`${line}\r\n`);
    return r;
  }
}

/** Dot-stuff and terminate (RFC 5321 §4.5.2). */
function dataBytes(raw: Buffer): Buffer {
  const text = raw.toString("latin1").replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..");
  return Buffer.from(`${text}${text.endsWith("\r\n") ? "" : "\r\n"}.\r\n`, "latin1");
}

export async function smtpSend(port: number, envelope: { from: string; to: readonly string[]; helo?: string }, raw: Buffer | string): Promise<SmtpExchange> {
  const sock = connect(port, "127.0.0.1");
  sock.on("error", () => undefined);
  const lines = new Lines(sock);
  try {
    const greeting = (await lines.next()).code;
    if (greeting !== 220) return { greeting, mail: 0, rcpt: [], data: undefined, final: undefined, finalText: undefined };
    await lines.cmd(`EHLO ${envelope.helo ?? "client.test"}`);
    const mail = (await lines.cmd(`MAIL FROM:<${envelope.from}>`)).code;
    const rcpt: number[] = [];
    for (const to of envelope.to) rcpt.push((await lines.cmd(`RCPT TO:<${to}>`)).code);
    if (mail !== 250 || !rcpt.some((c) => c === 250)) return { greeting, mail, rcpt, data: undefined, final: undefined, finalText: undefined };
    const data = (await lines.cmd("DATA")).code;
    if (data !== 354) return { greeting, mail, rcpt, data, final: undefined, finalText: undefined };
    const r = lines.next();
    sock.write(dataBytes(Buffer.isBuffer(raw) ? raw : Buffer.from(raw, "utf8")));
    const final = await r;
    await lines.cmd("QUIT").catch(() => undefined);
    return { greeting, mail, rcpt, data, final: final.code, finalText: final.text };
  } finally {
    sock.destroy();
  }
}
