/**
 * The Prosody harness itself (test/harness/prosody): a private instance on free loopback ports with
 * its own directory, the settings STACK.md requires, users registered with prosodyctl that real
 * clients can log in as, and a clean stop. Uses a second, short-lived Prosody besides the run's.
 */
import { existsSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { describe, expect, it } from "vitest";
import { prepareProsody, readLog, registerUser, removeProsodyDir, startProsody, stopProsody } from "../../harness/prosody/prosody.js";
import { prosody } from "./support.js";

const listening = (port: number) => new Promise<boolean>((resolve) => {
  const s = createConnection({ host: "127.0.0.1", port });
  s.once("connect", () => { s.destroy(); resolve(true); });
  s.once("error", () => resolve(false));
});

describe("Prosody harness", () => {
  it("the run's Prosody is private: its own dir, loopback ports, the mapping's component domains, fast hashing", () => {
    const c = prosody();
    const cfg = readFileSync(c.configPath, "utf8");
    expect(cfg).toContain("run_as_root = true");
    expect(cfg).toContain("default_iteration_count = 1000");
    expect(cfg).toContain('interfaces = { "127.0.0.1" }');
    for (const d of c.componentDomains) expect(cfg).toContain(`Component "${d}"`);
    expect(c.configPath.startsWith(c.dir)).toBe(true);
    expect(existsSync(c.pidFile)).toBe(true);
    expect(Object.keys(c.users).length).toBeGreaterThanOrEqual(10);
  });

  it("starts a second instance, registers a user while it runs, and stops it cleanly", async () => {
    const c = await prepareProsody({ userDomain: "harness.test", componentDomains: ["gw.harness.test"], users: ["one"] });
    try {
      const child = await startProsody(c);
      expect(await listening(c.c2sPort)).toBe(true);
      registerUser(c.configPath, "two", c.userDomain, "pw-two");
      expect(existsSync(`${c.dir}/data/harness%2etest/accounts/two.dat`)).toBe(true);
      await stopProsody(c);
      expect(await listening(c.c2sPort)).toBe(false);
      expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
      expect(readLog(c)).toMatch(/Shutdown complete/);
    } finally {
      await stopProsody(c, "SIGKILL");
      removeProsodyDir(c);
    }
  });
});
