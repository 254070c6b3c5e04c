/**
 * Free loopback ports for the peers tests start. Ports are picked below the kernel's ephemeral
 * range: a peer that is stopped and restarted on the same port (Redis, Synapse, Prosody, Postfix
 * in the outage tests) could otherwise find its port taken as the *local* port of some client
 * socket opened meanwhile, and fail to restart.
 *
 * A port is handed out once per machine while its reservation lasts: tiers run in parallel
 * processes, and a port chosen early (a Synapse app-service slot's listener, bound only when a
 * test starts that slot) was free to every other process until then; two processes picking the
 * same one failed with EADDRINUSE. Each pick is reserved by an exclusive file under the temp dir.
 */
import { mkdirSync, openSync, closeSync, readFileSync, statSync, utimesSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const RESERVATIONS = join(tmpdir(), "parley-test-ports");
/** Longer than any test run: a reservation older than this is from a run long gone. */
const RESERVATION_MS = 3 * 3600_000;

function ephemeralLow(): number {
  try {
    const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    return low !== undefined && low > 12_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** True when this process now holds the port's reservation (none, or a stale one, existed). */
function reserve(port: number): boolean {
  mkdirSync(RESERVATIONS, { recursive: true });
  const file = join(RESERVATIONS, String(port));
  try {
    closeSync(openSync(file, "wx"));
    return true;
  } catch {
    try {
      if (Date.now() - statSync(file).mtimeMs < RESERVATION_MS) return false;
      const now = new Date();
      utimesSync(file, now, now);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * A port on 127.0.0.1 that is free now and reserved for this caller, chosen at random below the
 * ephemeral range.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  const low = Math.max(10_000, high - 12_000);
  for (let i = 0; i < 100; i++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (reserve(port) && (await canBind(port))) return port;
  }
  throw new Error(`no free port between ${low} and ${high} after 100 tries`);
}
