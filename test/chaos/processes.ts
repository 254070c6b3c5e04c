/**
 * Parley as real `parley start --config FILE` processes (the SIGTERM path is the product's own),
 * and a TCP balancer in front of their application-service listeners, as a deployment has one
 * (DESIGN §6): Synapse keeps one URL whichever process is up.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "../..");

export interface ParleyProcess {
  readonly name: string;
  readonly adminPort: number;
  readonly child: ChildProcess;
  /** Resolves with the exit time (ms since epoch) once the process is gone. */
  readonly exited: Promise<number>;
  readonly running: boolean;
}

async function answers(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined;
  }
}

/**
 * Start `parley start --config configPath` from the compiled `entry` (build.ts) under this Node
 * (the pinned 24); resolves once /healthz answers.
 */
export async function startParley(name: string, entry: string, configPath: string, adminPort: number, logFile: string): Promise<ParleyProcess> {
  const log = openSync(logFile, "a");
  const child = spawn(process.execPath, [entry, "start", "--config", configPath], { cwd: REPO, stdio: ["ignore", log, log] });
  let running = true;
  const exited = new Promise<number>((r) => child.once("exit", () => { running = false; r(Date.now()); }));
  const deadline = Date.now() + 60_000;
  while ((await answers(`http://127.0.0.1:${adminPort}/healthz`))?.status !== 200) {
    if (!running) throw new Error(`parley ${name} exited at start; see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`parley ${name} did not answer /healthz within 60 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 100)); // polling a condition
  }
  return { name, adminPort, child, exited, get running() { return running; } };
}

/** Whether a process's adapter for `network` is ready (its /readyz check `adapter.<network>`). */
export async function adapterReady(p: ParleyProcess, network: string): Promise<boolean> {
  const r = await answers(`http://127.0.0.1:${p.adminPort}/readyz`);
  if (!r) return false;
  try {
    const body = JSON.parse(r.body) as { checks?: Array<{ name: string; ready?: boolean }> };
    return body.checks?.find((c) => c.name === `adapter.${network}`)?.ready === true;
  } catch {
    return false;
  }
}

/** The whole /readyz answer (status and body), for the figures. */
export function readyz(p: ParleyProcess): Promise<{ status: number; body: string } | undefined> {
  return answers(`http://127.0.0.1:${p.adminPort}/readyz`);
}

/** The balancer; `hold()` stops forwarding requests (they wait in the sockets, unanswered) until `release()`. */
export interface Balancer extends Server {
  hold(): void;
  release(): void;
}

/** Forward each connection on `port` to the first backend that accepts it. */
export async function startBalancer(port: number, backends: () => readonly number[]): Promise<Balancer> {
  let held = false;
  const flowing = new Set<Socket>();
  const server = createServer((client: Socket) => {
    client.pause();
    client.on("error", () => undefined);
    const tryNext = (rest: readonly number[]) => {
      const [first, ...others] = rest;
      if (first === undefined) { client.destroy(); return; }
      const up = createConnection({ host: "127.0.0.1", port: first });
      up.once("error", () => { up.destroy(); tryNext(others); });
      up.once("connect", () => {
        up.removeAllListeners("error");
        up.on("error", () => client.destroy());
        client.on("close", () => { up.destroy(); flowing.delete(client); });
        up.on("close", () => client.destroy());
        client.pipe(up).pipe(client);
        flowing.add(client);
        if (!held) client.resume();
        else client.pause();
      });
    };
    tryNext(backends());
  }) as Balancer;
  server.hold = () => { held = true; for (const c of flowing) c.pause(); };
  server.release = () => { held = false; for (const c of flowing) c.resume(); };
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  return server;
}
