/**
 * The soak test's Parley: the cross-network gateway alone in its own process, so its RSS is its
 * own. Logs go to a file the test reads. Driven over IPC: `rss` (after a full GC), `stop`.
 */
import pino from "pino";
import { startCrossGateway, type Peers } from "./gateway.js";

interface SoakEnv { peers: Peers; slotIndex: number; prefix: string; logFile: string }
type Command = { id: number; cmd: "rss" } | { id: number; cmd: "stop" };

const env = JSON.parse(process.env.PARLEY_SOAK ?? "{}") as SoakEnv;
const log = pino({ level: "info" }, pino.destination({ dest: env.logFile, sync: true }));
// One source (127.0.0.1) sends both the hostile and the normal mail here: lift the per-IP limit.
const { gw } = await startCrossGateway(env.peers, env.slotIndex, log, env.prefix, { rateLimits: { perSenderPerMinute: 100_000, perIpPerMinute: 100_000 } });
const gc = (globalThis as { gc?: () => void }).gc;

const reply = (msg: unknown) => process.send?.(msg);
process.on("disconnect", () => process.exit(0)); // never outlive the test
process.on("message", (m: Command) => {
  void (async () => {
    if (m.cmd === "rss") {
      for (let i = 0; i < 3; i++) {
        gc?.();
        await new Promise((r) => setTimeout(r, 100)); // let finalisers and freed pages settle
      }
      const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
      reply({ id: m.id, ok: { rss, heapUsed, heapTotal, external, arrayBuffers } });
    } else {
      await gw.destroy();
      reply({ id: m.id, ok: true });
      process.exit(0);
    }
  })();
});
reply({ ready: true });
