/**
 * `npm run demo` as a newcomer runs it (issue 7): the real command in a child process, with its
 * own peers and its own directory. `--once` plays the scripted conversation and exits; without it
 * the demo stays up until Ctrl-C (SIGINT), which must stop everything it started.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../support/redis-server.js";

function redisAnswers(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(u.port), u.hostname);
    s.once("connect", () => { s.write("PING\r\n"); });
    s.once("data", (d: Buffer) => { s.destroy(); resolve(d.toString().startsWith("+PONG")); });
    s.once("error", () => resolve(false));
  });
}

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function demoDir(): string {
  const d = mkdtempSync(join(tmpdir(), "parley-demo-test-"));
  dirs.push(d);
  return join(d, "demo");
}

/** Running, not a zombie (this machine's init does not reap orphans, so exited peers linger as Z). */
function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8")); } catch { return false; }
}

describe("npm run demo", () => {
  it("T-4.1.1 T-5.4.1 --once: all three networks talk, presence is approved and followed, the failure reaches its sender", () => {
    const dir = demoDir();
    const t0 = performance.now();
    const r = spawnSync("npm", ["run", "--silent", "demo", "--", "--once", "--dir", dir], { encoding: "utf8", timeout: 180_000 });
    const wallS = (performance.now() - t0) / 1000;
    const out = r.stdout;
    console.log(out);
    expect(r.status, `${out}\n${r.stderr}`).toBe(0);
    // Each network sends and receives, with a latency measured at the receiving client.
    expect(out).toMatch(/\[xmpp\] alice@chat\.demo → bob@matrix\.demo \(matrix\): "Hello Bob, Alice here on XMPP"\n\s+… delivered to Matrix .* in \d+ ms/);
    expect(out).toMatch(/\[matrix\] bob@matrix\.demo → alice@chat\.demo \(xmpp\): .*\n\s+… delivered to XMPP .* in \d+ ms/);
    expect(out).toMatch(/\[xmpp\] alice@chat\.demo → carol@mail\.demo \(email\): .*\n\s+… delivered to carol's mailbox .* in \d+ ms/);
    expect(out).toMatch(/\[email\] carol@mail\.demo → alice@chat\.demo \(xmpp\): .*\n\s+… delivered to XMPP .* in \d+ ms/);
    expect(out).toMatch(/\[matrix\] bob@matrix\.demo → carol@mail\.demo \(email\): .*\n\s+… delivered to carol's mailbox in \d+ ms/);
    expect(out).toMatch(/\[email\] carol@mail\.demo → bob@matrix\.demo \(matrix\): .*\n\s+… delivered to Matrix .* in \d+ ms/);
    // Presence: consent through the bridge bot, then away and back.
    expect(out).toMatch(/… alice's client shows the subscription approved in \d+ ms/);
    expect(out).toMatch(/… alice sees bob away: "at lunch" in \d+ ms/);
    expect(out).toMatch(/… alice sees bob available again in \d+ ms/);
    // The deliberate failure reaches the sender's own client as an XMPP error.
    expect(out).toMatch(/… failed as intended, reported to alice's client: <item-not-found\/> "Not delivered to ghost@matrix\.demo/);
    expect(out).toMatch(/Conversation: 11 of 11 steps as expected/);
    expect(out).toContain("Networks heard from: email, matrix, xmpp");
    expect(out).not.toContain("✗");
    // The demo wrote its configs and mappings, and cleaned up its peers.
    expect(existsSync(join(dir, "parley.yaml"))).toBe(true);
    expect(existsSync(join(dir, "mappings.yaml"))).toBe(true);
    const peers = JSON.parse(readFileSync(join(dir, "peers.json"), "utf8")) as { prosody: { pidFile: string } };
    expect(existsSync(peers.prosody.pidFile)).toBe(false);
    console.log(`measured: demo --once wall time ${wallS.toFixed(1)} s with the peers installed`);
    expect(wallS).toBeLessThan(180);
  });

  it("starts its own Redis when none answers, stays up with login instructions, passes parley doctor, and Ctrl-C stops everything it started", async () => {
    const dir = demoDir();
    const redisPort = await freePort();
    const redisUrl = `redis://127.0.0.1:${redisPort}`;
    const child = spawn("npm", ["run", "--silent", "demo", "--", "--dir", dir], {
      stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, PARLEY_DEMO_REDIS_URL: redisUrl },
    });
    let out = "";
    child.stdout.on("data", (b: Buffer) => { out += b.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + 180_000;
    while (!out.includes("Press Ctrl-C") && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain("Press Ctrl-C");
    expect(out).toContain(`Starting Redis on ${redisUrl}: done`);
    // The running demo is a healthy deployment (its own Redis has AOF on): the doctor finds nothing.
    const doctor = spawnSync(process.execPath, ["bin/parley.js", "doctor", "--config", join(dir, "parley.yaml")], { encoding: "utf8", timeout: 60_000 });
    expect(doctor.stdout, `${doctor.stdout}${doctor.stderr}`).toContain("No problems found.");
    expect(out).toMatch(/XMPP {3}server 127\.0\.0\.1 port \d+ .* user alice@chat\.demo, password \S+/);
    expect(out).toMatch(/Matrix homeserver http:\/\/127\.0\.0\.1:\d+, user @dana:matrix\.demo, password \S+/);
    expect(out).toMatch(/Mail {3}send through SMTP 127\.0\.0\.1:\d+/);
    const peers = JSON.parse(readFileSync(join(dir, "peers.json"), "utf8")) as { prosody: { pidFile: string } };
    const prosodyPid = Number(readFileSync(peers.prosody.pidFile, "utf8").trim());
    expect(pidAlive(prosodyPid)).toBe(true);
    // Ctrl-C in a terminal signals the whole foreground process group.
    process.kill(-child.pid!, "SIGINT");
    await exited;
    expect(out).toContain("Stopped.");
    expect(pidAlive(prosodyPid)).toBe(false);
    expect(await redisAnswers(redisUrl)).toBe(false);
    const synapsePid = join(dir, "synapse", "homeserver.pid");
    expect(existsSync(synapsePid) && pidAlive(Number(readFileSync(synapsePid, "utf8")))).toBe(false);
  });
});
