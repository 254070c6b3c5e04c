/**
 * Live reload of the domain mappings (issue 17): from `SIGHUP` (the file again), the admin API
 * and the console. A new version is validated first — an invalid one changes nothing and the
 * answer lists every problem with file and line, as `parley config check` does — then stored in
 * Redis as a numbered version (versions.ts) and announced on a pub/sub channel; every Parley
 * process swaps its mappings when it hears the number. The swap is one reference assignment: a
 * message is routed by the old mappings or the new ones, never by half of each, and nothing
 * queued is touched (jobs carry their target network already). Rollback applies a kept older
 * version again as a new one.
 *
 * A process that missed a notice (its subscriber reconnecting) catches up: it re-reads the
 * current number on every reconnect of its subscriber.
 *
 * The file and the versions at start (docs/console.md "Mappings"): Parley remembers the digest of
 * the file's text each time it reads it. At start the file becomes a new version only when it
 * changed since Parley last read it (the admin edited it); a file left as it was does not undo a
 * version applied later through the console or the admin API — that version stays in force, with
 * a warning that the file is older. SIGHUP and `POST /mappings/reload` always take the file.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { RedisClient } from "../store/redis.js";
import type { Logger } from "../log/logger.js";
import type { KnownNetwork } from "./checker.js";
import { parseMappings } from "./load.js";
import type { DomainMappings } from "./types.js";
import type { MappingsVersions } from "./versions.js";
import { errorMessage } from "../errors/message.js";

export type ApplyResult =
  | { readonly ok: true; readonly version: number; readonly unchanged?: boolean }
  | { readonly ok: false; readonly problems: readonly string[] };

export interface LiveMappingsOptions {
  readonly initial: DomainMappings;
  /** The mappings file (SIGHUP reads it again; problems name it). */
  readonly file: string;
  /** Whether the file is taken as a new version at start when Redis holds another text (the CLI: yes; tests: no). */
  readonly adoptFileAtStart: boolean;
  readonly networks: readonly KnownNetwork[];
  readonly versions: MappingsVersions;
  /** A connection of its own for SUBSCRIBE (a subscribed connection can do nothing else). */
  readonly subscriber: RedisClient;
  readonly log: Logger;
}

const digest = (text: string): string => createHash("sha256").update(text).digest("hex");

export class LiveMappings {
  private mappings: DomainMappings;
  private version = 0;
  private readonly log: Logger;

  constructor(private readonly o: LiveMappingsOptions) {
    this.mappings = o.initial;
    this.log = o.log.child({ module: "mappings" });
  }

  /** The mappings in force now (what the router reads for each message). */
  readonly get = (): DomainMappings => this.mappings;
  get currentVersion(): number { return this.version; }

  /** Listen for new versions; take the file as a new version if the admin edited it since it was last read. */
  async start(): Promise<void> {
    const sub = this.o.subscriber;
    sub.on("message", (channel: string, n: string) => {
      if (channel === this.o.versions.channel) void this.adoptOrLog(Number(n));
    });
    sub.on("ready", () => { void this.catchUp().catch((e: unknown) => this.notRead(undefined, e)); });
    await sub.subscribe(this.o.versions.channel);
    const current = await this.o.versions.current();
    const text = this.o.adoptFileAtStart ? await readFile(this.o.file, "utf8").catch(() => undefined) : undefined;
    if (text === undefined || current?.text === text) {
      if (current) await this.adopt(current.version);
      if (text !== undefined) await this.o.versions.setFileSeen(digest(text));
      return;
    }
    const seen = await this.o.versions.fileSeen();
    if (current && seen === digest(text)) {
      this.log.warn({ version: current.version, source: current.source, at: current.at, file: this.o.file },
        "the mappings file has not changed since Parley last read it, and is older than the version in force: keeping that version (SIGHUP or POST /mappings/reload takes the file)");
      await this.adopt(current.version);
      return;
    }
    if (current) this.log.warn({ replaced: current.version, source: current.source, file: this.o.file }, "the mappings file was edited since Parley last read it: it becomes the new version (the old one is kept for rollback)");
    const r = await this.apply(text, "start");
    if (r.ok) await this.o.versions.setFileSeen(digest(text));
    else this.log.error({ problems: r.problems }, "the edited mappings file does not validate; keeping the version in force");
  }

  async stop(): Promise<void> {
    this.o.subscriber.disconnect();
  }

  /** Validate `text`; if valid store it as the new version (every process swaps to it). */
  async apply(text: string, source: string): Promise<ApplyResult> {
    const parsed = parseMappings(text, this.o.file, this.o.networks);
    if (!parsed.ok) return { ok: false, problems: parsed.error.lines() };
    const current = await this.o.versions.current();
    if (current?.text === text) {
      await this.adopt(current.version);
      return { ok: true, version: current.version, unchanged: true };
    }
    const version = await this.o.versions.store(text, this.o.file, source);
    this.swap(parsed.mappings, version, source);
    return { ok: true, version };
  }

  /** The version in force here, its text, and the kept versions. */
  async describe(): Promise<{ version: number; file: string; text: string | undefined; history: number[] }> {
    const v = this.version > 0 ? await this.o.versions.get(this.version) : undefined;
    const text = v?.text ?? (await readFile(this.o.file, "utf8").catch(() => undefined));
    return { version: this.version, file: this.o.file, text, history: await this.o.versions.history() };
  }

  /** Only validate (the console's "check" button, `parley config check` for an edited text). */
  validate(text: string): ApplyResult {
    const parsed = parseMappings(text, this.o.file, this.o.networks);
    return parsed.ok ? { ok: true, version: this.version } : { ok: false, problems: parsed.error.lines() };
  }

  /** SIGHUP: read the file again and apply it. */
  async reloadFile(source = "sighup"): Promise<ApplyResult> {
    let text: string;
    try { text = await readFile(this.o.file, "utf8"); } catch (e) {
      return { ok: false, problems: [`${this.o.file}: cannot read the mappings file: ${errorMessage(e)}`] };
    }
    const r = await this.apply(text, source);
    if (r.ok) await this.o.versions.setFileSeen(digest(text));
    return r;
  }

  /** Apply a kept older version again (as a new version, so every process follows). */
  async rollback(to: number): Promise<ApplyResult> {
    const old = await this.o.versions.get(to);
    if (!old) return { ok: false, problems: [`no kept mappings version ${to}`] };
    return this.apply(old.text, `rollback to ${to}`);
  }

  private async catchUp(): Promise<void> {
    const current = await this.o.versions.current().catch(() => undefined);
    if (current && current.version !== this.version) await this.adopt(current.version);
  }

  /** Adopt version `n` as announced; a failed read (Redis down) is logged: the next reconnect catches up. */
  private async adoptOrLog(n: number): Promise<void> {
    await this.adopt(n).catch((e: unknown) => this.notRead(n, e));
  }

  private notRead(version: number | undefined, e: unknown): void {
    this.log.warn({ version, err: errorMessage(e) }, "a new mappings version could not be read; the current one stays until Redis answers again");
  }

  private async adopt(n: number): Promise<void> {
    if (n <= this.version) return;
    const v = await this.o.versions.get(n);
    if (!v) return;
    const parsed = parseMappings(v.text, v.file || this.o.file, this.o.networks);
    if (!parsed.ok) {
      this.log.error({ version: n, problems: parsed.error.lines() }, "a stored mappings version does not validate here; keeping the current one");
      return;
    }
    this.swap(parsed.mappings, n, v.source);
  }

  private swap(next: DomainMappings, version: number, source: string): void {
    if (version <= this.version) return;
    this.mappings = next;
    this.version = version;
    this.log.info({ version, source, domains: next.domains.size }, "mappings swapped");
  }
}
