/**
 * STACK.md: forked worker processes outlive a crashed parent and keep consuming. The worker entry
 * exits on `disconnect`; prove it by killing its parent with SIGKILL.
 */
import { spawn } from "node:child_process";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { queueName } from "../../../src/delivery/index.js";
import { cleanup, NET, SHARED_REDIS, uniquePrefix, waitFor } from "./helpers.js";

const prefix = uniquePrefix("life");
const ENTRY = fileURLToPath(new URL("../../support/delivery-worker-process.ts", import.meta.url));
afterAll(async () => { await cleanup(prefix); });

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

describe("worker processes (STACK.md)", () => {
  it("a worker process exits when its parent dies (kill -9 of the parent)", { timeout: 60_000 }, async () => {
    const cfg = JSON.stringify({ redisUrl: SHARED_REDIS, prefix, networks: [NET] });
    const parentCode = `
      const { fork } = require("node:child_process");
      const c = fork(${JSON.stringify(ENTRY)}, [], { execArgv: ["--import", "tsx"], env: { ...process.env, PARLEY_TEST_WORKER: ${JSON.stringify(cfg)} } });
      c.on("message", () => console.log("child " + c.pid));
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ["-e", parentCode], { stdio: ["ignore", "pipe", "inherit"] });
    const childPid = await new Promise<number>((resolve, reject) => {
      parent.stdout.on("data", (b: Buffer) => { const m = /child (\d+)/.exec(b.toString()); if (m) resolve(Number(m[1])); });
      parent.once("exit", () => reject(new Error("parent exited early")));
    });
    const conn = new Redis(SHARED_REDIS);
    const queue = new Queue(queueName("message", NET), { connection: conn, prefix });
    try {
      expect(await queue.getWorkersCount()).toBeGreaterThan(0);
      parent.kill("SIGKILL");
      await waitFor(() => !alive(childPid), 10_000, "the orphaned worker to exit");
      await waitFor(async () => (await queue.getWorkersCount()) === 0, 10_000, "no worker connection left");
    } finally {
      if (alive(childPid)) process.kill(childPid, "SIGKILL");
      await queue.close();
      conn.disconnect();
    }
  });
});
