/** Spawning delivery worker processes (test/support/delivery-worker-process.ts) for multi-process tests. */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { WorkerProcessConfig } from "../../support/delivery-worker-process.js";

const ENTRY = fileURLToPath(new URL("../../support/delivery-worker-process.ts", import.meta.url));

export interface WorkerProc { readonly child: ChildProcess; readonly pid: number; readonly exited: Promise<void> }

export async function spawnWorker(cfg: WorkerProcessConfig): Promise<WorkerProc> {
  const child = fork(ENTRY, [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, PARLEY_TEST_WORKER: JSON.stringify(cfg) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`worker exited early (${code})`)));
  });
  return { child, pid: child.pid!, exited };
}

export async function kill9(w: WorkerProc): Promise<void> {
  w.child.kill("SIGKILL");
  await w.exited;
}

export async function stopWorker(w: WorkerProc): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill("SIGTERM");
  await w.exited;
}
