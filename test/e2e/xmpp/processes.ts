/**
 * Parley processes for the XMPP e2e tests that kill them (failover.test.ts, crash-notice.test.ts):
 * each a real gateway in a child process (parley-process.ts) on a shared Redis prefix, driven over
 * IPC (`accept`, `health`, `stop`).
 */
import { fork, type ChildProcess } from "node:child_process";
import { prosody } from "./support.js";

export interface Proc { child: ChildProcess; call(cmd: Record<string, unknown>): Promise<unknown> }

export function startProc(prefix: string): Promise<Proc> {
  const child = fork(new URL("./parley-process.ts", import.meta.url).pathname, [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, PARLEY_TEST_PROSODY: JSON.stringify(prosody()), PARLEY_TEST_PREFIX: prefix },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`parley process exited early (${code})`)));
    child.on("message", (m: { ready?: boolean; id?: number; ok?: unknown; error?: string }) => {
      if (m.ready) {
        resolve({
          child,
          call: (cmd) => new Promise((res, rej) => {
            const id = next++;
            pending.set(id, { resolve: res, reject: rej });
            child.send({ ...cmd, id });
          }),
        });
      } else if (m.id !== undefined) {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error) p?.reject(new Error(m.error));
        else p?.resolve(m.ok);
      }
    });
  });
}

