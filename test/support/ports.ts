/**
 * Free loopback ports for the peers tests start. Ports are picked below the kernel's ephemeral
 * range: a peer that is stopped and restarted on the same port (Redis, Synapse, Prosody, Postfix
 * in the outage tests) could otherwise find its port taken as the *local* port of some client
 * socket opened meanwhile, and fail to restart.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

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

/** A port on 127.0.0.1 that is free now, chosen at random below the ephemeral range. */
export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  const low = Math.max(10_000, high - 12_000);
  for (let i = 0; i < 100; i++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port between ${low} and ${high} after 100 tries`);
}
