/**
 * Issue 14: a deployment of one `--role ingress` and two `--role workers` processes on one host
 * passes `parley doctor`, and doctor says which process does what: the ingress holds the XMPP
 * component link and receives mail, the workers take the email deliveries (XMPP's go over the
 * ingress's link). Real processes against the e2e-demo tier's Postfix (the relay) and a Prosody
 * of this test's own (the demo's Parley holds the demo Prosody's component link), on the demo's
 * Redis under a prefix of their own. Stopping the workers makes doctor fail naming the missing
 * role (the check can fail).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse, stringify } from "yaml";
import { Redis } from "ioredis";
import { adapterFactories } from "../../../adapters/index.js";
import { doctorCommand, doctorsOf } from "../../../src/cli/doctor.js";
import { loaderFor } from "../../../src/cli/main.js";
import { deleteKeysUnder } from "../../../src/store/index.js";
import { prepareProsody, removeProsodyDir, startProsody, stopProsody, type ProsodyCoordinates } from "../../harness/prosody/prosody.js";
import { freePort } from "../../support/ports.js";
import { startParley, type ParleyProcess } from "../../support/parley-processes.js";
import { testPrefix } from "../../support/gateway.js";
import { until } from "../../support/until.js";
import type { DemoDeploymentCoordinates } from "../demo/global-setup.js";
import { DEMO } from "../../../scripts/demo/files.js";

const d = JSON.parse(inject("demoDeployment")) as DemoDeploymentCoordinates;
const prefix = testPrefix("deploy");
let prosody: ProsodyCoordinates;
let ingressConfig: string;
let ingress: ParleyProcess;
const workers: ParleyProcess[] = [];

const loadAll = loaderFor(adapterFactories, {});

async function doctor(): Promise<{ exitCode: number; text: string }> {
  const out = await doctorCommand(["--config", ingressConfig, "--timeout", "2000"], { loadAll, networks: doctorsOf(adapterFactories) });
  return { exitCode: out.exitCode, text: out.lines.join("\n") };
}

/** The demo's config with this deployment's prefix, Prosody, SMTP port and admin API; no Matrix (its homeserver calls the demo's Parley). */
function config(name: string, admin: { port: number } | undefined, smtpPort: number): string {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a YAML tree edited in place
  const c = parse(readFileSync(d.configPath, "utf8")) as Record<string, any>;
  c.redis.keyPrefix = `${prefix}:`;
  c.admin = admin ? { ...c.admin, enabled: true, port: admin.port } : { enabled: false };
  c.adapters.xmpp = { ...c.adapters.xmpp, host: prosody.host, port: prosody.componentPort, componentSecret: prosody.componentSecret };
  c.adapters.email.listen.port = smtpPort;
  delete c.adapters.matrix;
  const path = join(d.dir, `deploy-${name}.yaml`);
  writeFileSync(path, stringify(c), { mode: 0o600 });
  return path;
}

beforeAll(async () => {
  prosody = await prepareProsody({ userDomain: DEMO.xmppDomain, componentDomains: DEMO.componentDomains, users: ["alice"] });
  await startProsody(prosody);
  const smtpPort = await freePort();
  ingressConfig = config("ingress", { port: await freePort() }, smtpPort);
  const workersConfig = config("workers", undefined, smtpPort);
  ingress = await startParley(ingressConfig, "ingress");
  for (let i = 0; i < 2; i++) workers.push(await startParley(workersConfig, "workers"));
}, 180_000);

afterAll(async () => {
  for (const p of [...workers, ingress]) await p?.stop();
  if (prosody) { await stopProsody(prosody); removeProsodyDir(prosody); }
  const r = new Redis(d.redisUrl);
  try { await deleteKeysUnder(r, prefix); } finally { r.disconnect(); }
});

describe("parley doctor on 1 ingress + 2 workers (issue 14)", () => {
  it("passes, naming the ingress holding the XMPP link and the workers taking email deliveries", async () => {
    let r = await doctor();
    // The processes report every 5 s; the links come up in their own time.
    await until("doctor passes", async () => { r = await doctor(); return r.exitCode === 0 ? true : undefined; }, 60_000, 1_000).catch(() => undefined);
    expect(r.text, r.text).toContain("No problems found.");
    expect(r.exitCode).toBe(0);
    expect(r.text).toMatch(/^ok +deployment: 3 processes \(1 ingress, 2 workers\)/m);
    expect(r.text).toMatch(new RegExp(`^ok +xmpp ingress: link up in ingress [^,\\n]+:${ingress.child.pid}$`, "m"));
    expect(r.text).toMatch(new RegExp(`^ok +xmpp deliveries: taken by ingress [^,\\n]+:${ingress.child.pid}$`, "m"));
    expect(r.text).toMatch(new RegExp(`^ok +email deliveries: taken by workers [^,]+:${workers[0]!.child.pid}, workers [^,]+:${workers[1]!.child.pid}$`, "m"));
    expect(r.text).toMatch(/^ok +xmpp component matrix\.demo: the secret is accepted; the link is held by a running Parley/m);
    expect(r.text).toMatch(/^ok +email listener:/m);
  });

  it("fails naming the missing role once the workers are gone", async () => {
    for (const w of workers) await w.stop();
    const r = await doctor();
    expect(r.exitCode).toBe(1);
    expect(r.text).toMatch(/^FAIL {2}deployment: no process runs the delivery workers/m);
    expect(r.text).toMatch(/^FAIL {2}email deliveries: no process takes email deliveries/m);
  });
});
