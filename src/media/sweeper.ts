/**
 * Retention for the blob store: blobs unused for longer than the time to live are deleted, and
 * the store learns what the directory holds so it can refuse puts past its bounds. Safe with
 * several Parley processes sweeping one shared directory (a delete of a gone file is ignored).
 */
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log/logger.js";
import type { BlobStore } from "./blob-store.js";
import { errorMessage } from "../errors/message.js";

export interface SweepResult {
  readonly kept: number;
  readonly keptBytes: number;
  readonly removed: number;
}

/** Stale temporary files (a crashed put) are removed after this long. */
const TMP_GRACE_MS = 60 * 60 * 1000;

export async function sweep(store: BlobStore, ttlMs: number, now = Date.now()): Promise<SweepResult> {
  let kept = 0, keptBytes = 0, removed = 0;
  const top = await readdir(store.dir, { withFileTypes: true }).catch(() => []);
  for (const entry of top) {
    const path = join(store.dir, entry.name);
    if (entry.isFile() && entry.name.startsWith(".tmp-")) {
      const s = await stat(path).catch(() => undefined);
      if (s && now - s.mtimeMs > TMP_GRACE_MS) await rm(path, { force: true });
      continue;
    }
    if (!entry.isDirectory() || !/^[0-9a-f]{2}$/.test(entry.name)) continue;
    for (const name of await readdir(path).catch(() => [])) {
      const file = join(path, name);
      const s = await stat(file).catch(() => undefined);
      if (!s) continue;
      if (now - s.mtimeMs > ttlMs) {
        await rm(file, { force: true });
        removed++;
      } else {
        kept++;
        keptBytes += s.size;
      }
    }
  }
  store.setUsage(keptBytes, kept);
  return { kept, keptBytes, removed };
}

/** Sweeps now and then every `intervalMs`; stop() ends it. */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly store: BlobStore, private readonly ttlMs: number, private readonly intervalMs: number, private readonly log: Logger) {}

  async start(): Promise<void> {
    await this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    try {
      const r = await sweep(this.store, this.ttlMs);
      if (r.removed > 0) this.log.info(r, "expired media removed");
    } catch (e) {
      this.log.warn({ err: errorMessage(e) }, "media sweep failed");
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
