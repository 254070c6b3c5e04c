/**
 * A password inside a URL never reaches a log line, an error message or the CLI's output
 * (DESIGN §5): `redis.url` may be `redis://:secret@host:6379`, and key-name redaction cannot see
 * a secret that is part of a value.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { adapterFactories } from "../../../adapters/index.js";
import { runCommand } from "../../../src/cli/main.js";
import { errorMessage } from "../../../src/errors/message.js";
import { createLogger } from "../../../src/log/logger.js";
import { redactUrlSecrets } from "../../../src/log/redact-url.js";

const SECRET = "hunter2-url-secret";

function capture() {
  const lines: string[] = [];
  const log = createLogger({ level: "trace", secrets: adapterFactories }, new Writable({ write(c: Buffer, _e, cb) { lines.push(c.toString()); cb(); } }));
  return { log, text: () => lines.join("") };
}

describe("redactUrlSecrets", () => {
  it.each([
    [`redis://:${SECRET}@127.0.0.1:6379`, "redis://:***@127.0.0.1:6379"],
    [`rediss://parley:${SECRET}@redis.example.org:6380/2`, "rediss://parley:***@redis.example.org:6380/2"],
    [`https://${SECRET}@matrix.example.org/`, "https://***@matrix.example.org/"],
    [`smtp://relay:${SECRET}@mail.example.org:587`, "smtp://relay:***@mail.example.org:587"],
    [`redis://127.0.0.1:6379?password=${SECRET}&db=1`, "redis://127.0.0.1:6379?password=***&db=1"],
    [`connect to REDIS://u:${SECRET}@h:1 failed; then redis://:${SECRET}@h:2`, "connect to REDIS://u:***@h:1 failed; then redis://:***@h:2"],
  ])("%s", (input, want) => {
    expect(redactUrlSecrets(input)).toBe(want);
  });

  it("leaves URLs without credentials, addresses and puppet ids alone", () => {
    for (const s of ["redis://127.0.0.1:6379", "https://matrix.to/#/@alice:example.org", "alice@chat.example.org", "@_parley_xmpp_alice=40chat.example.org:m.org", "a=b&c=d"]) {
      expect(redactUrlSecrets(s)).toBe(s);
    }
  });
});

describe("a password in a URL is redacted wherever it is shown", () => {
  it("in log lines: a config value, the message, a child's bindings and an error's message and stack", () => {
    const { log, text } = capture();
    const url = `redis://:${SECRET}@127.0.0.1:6379`;
    log.info({ redis: { url, cluster: ["10.0.0.1:7000"] } }, "config");
    log.info({ config: { adapters: { matrix: { homeserverUrl: `https://bot:${SECRET}@hs.example.org` } } } }, "nested");
    log.warn(`cannot reach ${url}`);
    log.child({ redisUrl: url }).info("bound");
    log.error({ err: new Error(`Redis at ${url} refused`) }, "failed");
    log.error(new Error(`connect ${url}`));
    expect(text()).not.toContain(SECRET);
    expect(text()).toContain("redis://:***@127.0.0.1:6379");
    expect(text()).toContain("10.0.0.1:7000");
  });

  it("in error messages (errorMessage is how every error is worded for logs, CLI and reports)", () => {
    expect(errorMessage(new Error(`ioredis: redis://user:${SECRET}@h:6379 unreachable`))).toBe("ioredis: redis://user:***@h:6379 unreachable");
    expect(errorMessage(`rediss://:${SECRET}@h`)).not.toContain(SECRET);
  });

  describe("in parley doctor's output", () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-urlsecret-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "domains.yaml"), "networks:\n  matrix: { serverName: m.example.org }\ndomains: {}\n");
    const config = join(dir, "parley.yaml");
    // Nothing listens on port 1: every check fails and says where it looked.
    writeFileSync(config, `mappings: domains.yaml
redis: { url: "redis://parley:${SECRET}@127.0.0.1:1" }
admin: { enabled: false }
adapters:
  matrix: { homeserverUrl: "http://bot:${SECRET}@127.0.0.1:1/", asToken: as-token-0123456789abcdef, hsToken: hs-token-0123456789abcdef }
`);

    it("names the Redis and the homeserver it could not reach without their passwords", async () => {
      const out = await runCommand(["doctor", "--config", config, "--timeout", "300"], adapterFactories, {});
      const text = out.lines.join("\n");
      expect(out.exitCode).toBe(1);
      expect(text).toContain("Redis at redis://parley:***@127.0.0.1:1 does not answer");
      expect(text).toContain("http://bot:***@127.0.0.1:1 does not answer");
      expect(text).not.toContain(SECRET);
    });
  });
});
