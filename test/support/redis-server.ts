/**
 * A private `redis-server` for tests that stop, kill or misconfigure Redis (never the shared one at
 * 127.0.0.1:6379): a free loopback port, its own temporary directory, optional AOF with
 * `appendfsync always`. `kill9()` then `start()` restarts it on the same port and directory, so
 * what was fsynced to the AOF comes back.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";
export { freePort };

export interface RedisServerOptions {
  /** `--appendonly yes --appendfsync always` (default false: nothing on disk, like the shared Redis). */
  readonly appendonly?: boolean;
  /** With `appendonly`: fsync the AOF on every write (default) or once a second. */
  readonly appendfsync?: "always" | "everysec";
  readonly extraArgs?: readonly string[];
}


export class RedisServer {
  private proc: ChildProcess | undefined;
  private constructor(readonly port: number, readonly dir: string, private readonly opts: RedisServerOptions) {}

  static async start(opts: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), "parley-redis-")), opts);
    await server.start();
    return server;
  }

  get url(): string { return `redis://127.0.0.1:${this.port}`; }
  get running(): boolean { return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null; }

  /** Start (or restart) on the same port and directory; resolves when it accepts connections. */
  async start(): Promise<void> {
    if (this.running) return;
    const args = [
      "--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dir, "--save", "",
      "--daemonize", "no", "--protected-mode", "yes", "--loglevel", "notice",
      "--appendonly", this.opts.appendonly ? "yes" : "no",
      ...(this.opts.appendonly ? ["--appendfsync", this.opts.appendfsync ?? "always"] : []),
      ...(this.opts.extraArgs ?? []),
    ];
    const proc = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.proc = proc;
    await new Promise<void>((resolve, reject) => {
      let out = "";
      const onData = (b: Buffer) => {
        out += b.toString();
        if (out.includes("Ready to accept connections")) { proc.stdout.off("data", onData); resolve(); }
      };
      proc.stdout.on("data", onData);
      proc.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`)));
    });
    proc.stdout.resume();
    proc.stderr.resume();
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill(sig);
    await exited;
  }

  /** SIGKILL: no shutdown save, no AOF rewrite; only what was fsynced survives. */
  kill9(): Promise<void> { return this.signal("SIGKILL"); }
  /** Orderly stop (SIGTERM). */
  stop(): Promise<void> { return this.signal("SIGTERM"); }
  /** SIGSTOP: Redis stops answering but keeps its connections open (a hung host); `resume()` continues it. */
  pause(): void { if (this.running) this.proc!.kill("SIGSTOP"); }
  resume(): void { if (this.running) this.proc!.kill("SIGCONT"); }

  /** Stop and remove the directory. */
  async destroy(): Promise<void> {
    await this.kill9();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
