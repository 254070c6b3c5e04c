/**
 * A complete local deployment for the demo (and the e2e-demo tests): Redis (started only when
 * none answers), a private Prosody, Synapse and Postfix through the same harness functions the
 * e2e tiers use, and Parley built from the config and mappings written into the demo directory.
 * `stop()` stops everything that was started here, in reverse order.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Redis } from "ioredis";
import { destination } from "pino";
import { prepareProsody, startProsody, stopProsody, removeProsodyDir, freePort, type ProsodyCoordinates } from "../../test/harness/prosody/prosody.js";
import { ensureSynapseVenv, startSynapse, type SynapseInstance } from "../../test/harness/synapse/synapse.js";
import { configureMta, ensurePostfix, removeMta, startMta, stopMta, type MtaCoordinates } from "../../test/harness/mta/postfix.js";
import { writeRegistration } from "../../adapters/matrix/index.js";
import { xmppAdapter } from "../../adapters/xmpp/index.js";
import { matrixAdapter } from "../../adapters/matrix/index.js";
import { emailAdapterFactory } from "../../adapters/email/index.js";
import type { AdapterFactory } from "../../src/adapter/contract.js";
import { loadConfig } from "../../src/config/index.js";
import { loadMappingsFile, parseMappings, type DomainMappings } from "../../src/mappings/index.js";
import { buildGateway, type BuiltGateway } from "../../src/build.js";
import { createLogger } from "../../src/log/logger.js";
import { deleteKeysUnder } from "../../src/store/index.js";
import { DEMO, demoConfigYaml, demoMappingsYaml, demoResolver, writeJson } from "./files.js";

export type Progress = (line: string) => void;

export interface DemoDeployment {
  readonly dir: string;
  readonly configPath: string;
  readonly mappingsPath: string;
  readonly redisUrl: string;
  readonly keyPrefix: string;
  readonly adminToken: string;
  readonly prosody: ProsodyCoordinates;
  readonly synapse: SynapseInstance;
  readonly mta: MtaCoordinates;
  readonly gateway: BuiltGateway;
  /** The Parley ports: SMTP listener, application-service listener, admin API. */
  readonly ports: { smtp: number; appservice: number; admin: number };
  stop(): Promise<void>;
}

/** The demo's adapter list: the real adapters, the email one with the demo's DNS records. */
export function demoFactories(): readonly AdapterFactory<unknown>[] {
  return [xmppAdapter, matrixAdapter, emailAdapterFactory({ resolver: demoResolver })];
}

const factoriesForSchemas = () => demoFactories();
const knownNetworks = () => demoFactories().map((f) => ({ id: f.id, addressing: f.addressing }));

async function redisAnswers(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000 });
  r.on("error", () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** Debian's redis-server, installed when missing (root; CI runs as root). */
function ensureRedisServer(progress: Progress): void {
  if (spawnSync("sh", ["-c", "command -v redis-server"], { stdio: "ignore" }).status === 0) return;
  progress("installing redis-server from Debian (once) …");
  const cmd = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=600 --no-install-recommends redis-server";
  if (process.getuid?.() !== 0) throw new Error(`redis-server is missing. Run as root: ${cmd}`);
  if (spawnSync("sh", ["-c", cmd], { stdio: "inherit" }).status !== 0) throw new Error(`"${cmd}" failed`);
}

/** Start a redis-server on the URL's port (AOF on, noeviction), data in the demo directory. */
async function startRedis(url: string, dir: string, progress: Progress): Promise<ChildProcess> {
  ensureRedisServer(progress);
  const u = new URL(url);
  const port = u.port || "6379";
  mkdirSync(dir, { recursive: true });
  const child = spawn("redis-server", ["--port", port, "--bind", u.hostname || "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--maxmemory-policy", "noeviction", "--save", ""], { stdio: "ignore" });
  const deadline = Date.now() + 10_000;
  while (!(await redisAnswers(url))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on ${url}`);
    await new Promise((r) => setTimeout(r, 50)); // polling a condition
  }
  return child;
}

async function timed<T>(progress: Progress, what: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  progress(`${what} …`);
  const heartbeat = setInterval(() => progress(`  … still ${what.toLowerCase()} (${((performance.now() - t0) / 1000).toFixed(0)} s)`), 10_000);
  try {
    const v = await f();
    progress(`${what}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return v;
  } finally {
    clearInterval(heartbeat);
  }
}

export interface DeployOptions {
  readonly dir: string;
  readonly redisUrl?: string;
  readonly progress: Progress;
}

type Stops = Array<() => Promise<void> | void>;

interface Peers {
  readonly prosody: ProsodyCoordinates;
  readonly mta: MtaCoordinates;
  readonly synapse: SynapseInstance;
  readonly registration: { asToken: string; hsToken: string };
  readonly appservicePort: number;
}

/** Prosody, Postfix and Synapse through the harness functions; each one's stop goes on `stops`. */
async function startPeers(dir: string, mappings: DomainMappings, progress: Progress, stops: Stops): Promise<Peers> {
  const prosody = await timed(progress, "Installing (if needed) and starting Prosody", async () => {
    const c = await prepareProsody({ userDomain: DEMO.xmppDomain, componentDomains: DEMO.componentDomains, users: ["alice"] });
    await startProsody(c);
    return c;
  });
  stops.push(async () => { await stopProsody(prosody); removeProsodyDir(prosody); });
  symlinkSync(prosody.dir, join(dir, "prosody")); // the harness keeps its peers' files under /tmp

  const mta = await timed(progress, "Installing (if needed) and starting Postfix", async () => {
    await ensurePostfix();
    const c = await configureMta({ catchAllDomains: [DEMO.mailDomain], bounceDomains: [`nobody.${DEMO.mailDomain}`], relayDomains: DEMO.relayDomains });
    await startMta(c);
    return c;
  });
  stops.push(async () => { await stopMta(mta); removeMta(mta); });
  symlinkSync(mta.workDir, join(dir, "postfix")); // under /tmp: Postfix's own user must traverse it

  const appservicePort = await freePort();
  const registration = writeRegistration({ id: DEMO.appserviceId, url: `http://127.0.0.1:${appservicePort}`, mappings });
  await timed(progress, "Installing Synapse from PyPI if needed (minutes the first time)", () => ensureSynapseVenv());
  mkdirSync(join(dir, "synapse"), { mode: 0o700 });
  const synapse = await timed(progress, "Starting Synapse", () =>
    startSynapse({ serverName: DEMO.matrixServer, appserviceRegistrations: [registration.yaml], dataDir: join(dir, "synapse") }));
  stops.push(() => synapse.stop());
  return { prosody, mta, synapse, registration, appservicePort };
}

/** Parley's config from the peers' coordinates (secrets inline: the demo's peers are throw-away). */
function writeParleyConfig(dir: string, redisUrl: string, keyPrefix: string, adminPort: number, p: Peers): { configPath: string; adminToken: string } {
  const adminToken = randomBytes(24).toString("base64url");
  const adminTokenFile = join(dir, "admin-token");
  writeFileSync(adminTokenFile, `${adminToken}\n`, { mode: 0o600 });
  const configPath = join(dir, "parley.yaml");
  writeFileSync(configPath, demoConfigYaml({
    redisUrl, keyPrefix, adminPort, adminTokenFile,
    xmpp: { host: p.prosody.host, port: p.prosody.componentPort, componentSecret: p.prosody.componentSecret },
    matrix: { homeserverUrl: p.synapse.baseUrl, asToken: p.registration.asToken, hsToken: p.registration.hsToken, registrationFile: join(p.synapse.dataDir, "appservice-0.yaml"), port: p.appservicePort },
    email: { listenPort: p.mta.parleyPort, relayPort: p.mta.smtpPort, blobDir: join(dir, "blobs") },
  }), { mode: 0o600 });
  return { configPath, adminToken };
}

/** Bring up the whole demo deployment. On failure, whatever was started is stopped again. */
export async function startDeployment(o: DeployOptions): Promise<DemoDeployment> {
  const dir = resolve(o.dir);
  const progress = o.progress;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stops: Stops = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => undefined);
    stops.length = 0;
  };
  try {
    const redisUrl = o.redisUrl ?? process.env.PARLEY_DEMO_REDIS_URL ?? "redis://127.0.0.1:6379";
    if (await redisAnswers(redisUrl)) progress(`Redis answers on ${redisUrl}: using it`);
    else {
      const child = await timed(progress, `Starting Redis on ${redisUrl}`, () => startRedis(redisUrl, join(dir, "redis"), progress));
      stops.push(() => { child.kill("SIGTERM"); });
    }
    const mappingsPath = join(dir, "mappings.yaml");
    writeFileSync(mappingsPath, demoMappingsYaml());
    const mappings = await loadMappingsFile(mappingsPath, knownNetworks());
    if (!mappings.ok) throw new Error(mappings.error.lines().join("\n"));
    const peers = await startPeers(dir, mappings.mappings, progress, stops);
    const keyPrefix = `parley-demo-${randomBytes(3).toString("hex")}:`;
    const adminPort = await freePort();
    const { configPath, adminToken } = writeParleyConfig(dir, redisUrl, keyPrefix, adminPort, peers);
    const gateway = await timed(progress, "Starting Parley", () => startParley(configPath, join(dir, "parley.log")));
    stops.push(async () => {
      await gateway.stop();
      const r = new Redis(redisUrl);
      try { await deleteKeysUnder(r, keyPrefix.replace(/:+$/, "")); } finally { r.disconnect(); }
    });
    const { prosody, mta, synapse, appservicePort } = peers;
    writeJson(dir, "peers.json", { redisUrl, keyPrefix, prosody, synapse: { baseUrl: synapse.baseUrl, dataDir: synapse.dataDir, registrationSharedSecret: synapse.registrationSharedSecret }, mta, parley: { smtp: mta.parleyPort, appservice: appservicePort, admin: adminPort } });
    return {
      dir, configPath, mappingsPath, redisUrl, keyPrefix, adminToken, prosody, synapse, mta, gateway,
      ports: { smtp: mta.parleyPort, appservice: appservicePort, admin: adminPort },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** Parley from the written files, exactly as `parley start --config FILE` loads them. */
async function startParley(configPath: string, logFile: string): Promise<BuiltGateway> {
  const loaded = await loadConfig(configPath, { adapters: factoriesForSchemas(), env: {} });
  if (!loaded.ok) throw new Error(loaded.error.lines().join("\n"));
  const mappings = await loadMappingsFile(loaded.config.mappings, knownNetworks());
  if (!mappings.ok) throw new Error(mappings.error.lines().join("\n"));
  const log = createLogger({ level: loaded.config.log.level }, destination({ dest: logFile, sync: true }));
  const gateway = await buildGateway({ config: loaded.config, mappings: mappings.mappings, factories: demoFactories(), log });
  await gateway.start();
  return gateway;
}

/** For tests: the demo mappings parsed without a file. */
export function demoMappings() {
  const r = parseMappings(demoMappingsYaml(), "demo-mappings.yaml", knownNetworks());
  if (!r.ok) throw new Error(r.error.lines().join("\n"));
  return r.mappings;
}
