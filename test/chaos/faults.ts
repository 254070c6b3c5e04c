/**
 * The faults of the chaos test (issue 10), each injected while the three conversations flow
 * (Matrix → XMPP, XMPP → Matrix, XMPP → email), with what each measures beyond the ledger.
 * `full` runs the outages at their stated length; the short run (in `npm test`) shortens them.
 */
import { until } from "../support/until.js";
import type { ChaosRig } from "./rig.js";
import { adapterReady, readyz, type ParleyProcess } from "./processes.js";

/** Figures a fault adds to its line; `killedAt` (epoch ms of a kill) is turned into when each silent message was sent relative to it. */
export type Extra = Record<string, number | string>;

export interface Fault {
  readonly name: string;
  /** Part of the short run in `npm test` too. */
  readonly short: boolean;
  inject(rig: ChaosRig, full: boolean): Promise<Extra>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The process that holds the XMPP link now (waits for one). */
export async function holder(rig: ChaosRig, timeoutMs = 30_000): Promise<ParleyProcess> {
  return until("a process holding the XMPP link", async () => {
    for (const p of rig.procs.values()) if (p.running && (await adapterReady(p, "xmpp"))) return p;
    return undefined;
  }, timeoutMs);
}

async function takeoverBy(p: ParleyProcess, since: number): Promise<number> {
  await until(`${p.name} holding the XMPP link`, async () => ((await adapterReady(p, "xmpp")) ? true : undefined), 30_000);
  return Date.now() - since;
}

export const FAULTS: readonly Fault[] = [
  {
    name: "kill9-parley", short: false,
    async inject(rig) {
      const p = await holder(rig);
      const t0 = Date.now();
      p.child.kill("SIGKILL");
      await p.exited;
      await rig.start(p.name as "a" | "b");
      return { back_ms: await takeoverBy(rig.procs.get(p.name)!, t0), killedAt: t0 };
    },
  },
  {
    name: "sigterm-restart", short: false,
    async inject(rig) {
      const p = await holder(rig);
      const t0 = Date.now();
      p.child.kill("SIGTERM");
      const exitMs = (await p.exited) - t0;
      await rig.start(p.name as "a" | "b");
      return { exit_ms: exitMs, back_ms: await takeoverBy(rig.procs.get(p.name)!, t0) };
    },
  },
  {
    name: "kill9-redis", short: false,
    async inject(rig, full) {
      const t0 = Date.now();
      await rig.redis.kill9();
      await sleep(full ? 5_000 : 2_000);
      await rig.redis.start();
      return { killedAt: t0 };
    },
  },
  {
    name: "sigstop-prosody", short: false,
    async inject(rig, full) {
      const p = await holder(rig);
      const pid = rig.prosodyPid();
      const t0 = Date.now();
      process.kill(pid, "SIGSTOP");
      let notReadyMs: number | string;
      try {
        await until("/readyz answering 503", async () => ((await readyz(p))?.status === 503 ? true : undefined), 15_000, 100);
        notReadyMs = Date.now() - t0;
      } catch {
        notReadyMs = "never";
      } finally {
        await sleep(Math.max(0, (full ? 20_000 : 8_000) - (Date.now() - t0)));
        process.kill(pid, "SIGCONT");
      }
      return { readyz_503_after_ms: notReadyMs, ready_again_ms: await takeoverBy(p, Date.now()) };
    },
  },
  {
    name: "synapse-stopped", short: false,
    async inject(rig, full) {
      await rig.synapse.stop();
      await sleep(full ? 30_000 : 5_000);
      await rig.synapse.restart();
      return {};
    },
  },
  {
    name: "kill9-holder-with-standby", short: false,
    async inject(rig) {
      const p = await holder(rig);
      const other = p.name === "a" ? "b" : "a";
      const standby = rig.procs.get(other)?.running ? rig.procs.get(other)! : await rig.start(other);
      const t0 = Date.now();
      p.child.kill("SIGKILL");
      const takeover = await takeoverBy(standby, t0);
      await rig.start(p.name as "a" | "b"); // back, as the new standby
      return { takeover_ms: takeover, killedAt: t0 };
    },
  },
  {
    name: "sigterm-holder-handover", short: true,
    async inject(rig) {
      const p = await holder(rig);
      const other = p.name === "a" ? "b" : "a";
      const standby = rig.procs.get(other)?.running ? rig.procs.get(other)! : await rig.start(other);
      const t0 = Date.now();
      p.child.kill("SIGTERM");
      const takeover = await takeoverBy(standby, t0);
      const exitMs = (await p.exited) - t0;
      return { exit_ms: exitMs, takeover_ms: takeover };
    },
  },
];
