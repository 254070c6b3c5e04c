/**
 * Real `parley start` processes for deployment tests (issue 14: roles, shared limits, doctor):
 * each its own Node process on one config file, started with tsx, stopped with SIGTERM. The
 * config is written to a temporary directory with the example mappings beside it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "./until.js";

export const repoRoot = new URL("../../", import.meta.url).pathname;

export interface ParleyProcess {
  readonly child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * A config directory: `c.yaml` with `lines`, and the example mappings as `m.yaml`. Unless `lines`
 * set `media`, the blob store is `blobs/` in that directory (the processes run in the checkout,
 * where the default `./data/blobs` would land).
 */
export function writeParleyConfig(lines: readonly string[]): { dir: string; config: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "parley-deploy-"));
  copyFileSync(join(repoRoot, "mappings/domains.example.yaml"), join(dir, "m.yaml"));
  const media = lines.some((l) => l.startsWith("media:")) ? [] : [`media: { dir: ${JSON.stringify(join(dir, "blobs"))} }`];
  writeFileSync(join(dir, "c.yaml"), ["mappings: m.yaml", ...media, ...lines].join("\n"));
  return { dir, config: join(dir, "c.yaml"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Start `parley start --role <role>`; resolves once it logged "parley started". */
export async function startParley(config: string, role: "all" | "ingress" | "workers", env: Record<string, string> = {}): Promise<ParleyProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "bin/parley.ts"), "start", "--config", config, "--role", role], {
    cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env },
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => { out += c.toString(); });
  child.stderr.on("data", (c: Buffer) => { out += c.toString(); });
  const p: ParleyProcess = {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
  try {
    await until(`parley --role ${role} started`, () => {
      if (child.exitCode !== null) throw new Error(`parley exited ${child.exitCode}: ${out}`);
      return out.includes('"msg":"parley started"') ? true : undefined;
    }, 60_000, 100);
  } catch (e) {
    await p.stop();
    throw e;
  }
  return p;
}
