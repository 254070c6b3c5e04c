/**
 * No secret reaches the log of a real `parley start` (DESIGN §5): every key a config schema marks
 * `secret()` — XMPP's componentSecret, Matrix's tokens, an inline DKIM key, the admin token, the
 * media signing key — set to a value of its own, the process run at `trace` with its peers
 * unreachable (so it logs its connection failures too), and not one value appears in its output.
 */
import { generateKeyPairSync } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { adapterFactories } from "../../../adapters/index.js";
import { CoreConfigSchema } from "../../../src/config/index.js";
import { secretPaths } from "../../../src/config/secret.js";
import { deleteKeysUnder } from "../../../src/store/index.js";
import { testPrefix } from "../../support/gateway.js";
import { startParley, writeParleyConfig, type ParleyProcess } from "../../support/parley-processes.js";
import { until } from "../../support/until.js";

const prefix = testPrefix("secrets");
const dkimKey = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
/** Each secret path the schemas declare → the value this test gives it. */
const values: Record<string, string> = {
  "admin.token": "admin-token-5e1f0c2a9b",
  "media.listener.secret": "media-signing-key-7d3b6a1e",
  "adapters.xmpp.componentSecret": "xmpp-component-secret-4c8e",
  "adapters.matrix.asToken": "matrix-as-token-9a2f7e61",
  "adapters.matrix.hsToken": "matrix-hs-token-3b5d0c84",
  "adapters.email.dkim.*.privateKey": dkimKey,
  "adapters.email.oneClick.secret": "list-one-click-key-62c0d9e4",
};
const config = writeParleyConfig([
  `redis: { url: "redis://127.0.0.1:6379", keyPrefix: "${prefix}" }`,
  "log: { level: trace }",
  `admin: { enabled: true, port: 0, token: ${values["admin.token"]} }`,
  `media: { listener: { enabled: true, port: 0, secret: ${values["media.listener.secret"]} } }`,
  "adapters:",
  `  xmpp: { componentSecret: ${values["adapters.xmpp.componentSecret"]}, host: 127.0.0.1, port: 1 }`,
  `  matrix: { homeserverUrl: "http://127.0.0.1:1", asToken: ${values["adapters.matrix.asToken"]}, hsToken: ${values["adapters.matrix.hsToken"]}, listen: { host: 127.0.0.1, port: 0 } }`,
  `  email: { hostname: parley.test, listen: { host: 127.0.0.1, port: 0 }, dkim: [{ domain: parley.test, selector: s1, privateKey: ${JSON.stringify(dkimKey)} }], oneClick: { publicUrl: "https://lists.parley.test", listen: { host: 127.0.0.1, port: 0 }, secret: ${values["adapters.email.oneClick.secret"]} } }`,
]);
let parley: ParleyProcess | undefined;

afterAll(async () => {
  await parley?.stop();
  config.remove();
  const redis = new Redis("redis://127.0.0.1:6379");
  try { await deleteKeysUnder(redis, prefix); } finally { redis.disconnect(); }
});

describe("secrets in a real process's log", () => {
  it("gives every secret the schemas declare a value", () => {
    const declared = [
      ...secretPaths(CoreConfigSchema).map((p) => p.join(".")),
      ...adapterFactories.flatMap((f) => secretPaths(f.configSchema).map((p) => ["adapters", f.id, ...p].join("."))),
    ];
    expect(declared.sort()).toEqual(Object.keys(values).sort());
  });

  it("parley start at trace, peers unreachable, logs none of them", async () => {
    parley = await startParley(config.config, "all");
    // The XMPP link fails against port 1 and says so: the log holds more than the start line.
    await until("the XMPP link's failure logged", () => (/xmpp/i.test(parley!.output().split('"parley started"')[1] ?? "") ? true : undefined), 20_000, 100);
    await parley.stop();
    const out = parley.output();
    expect(out).toContain('"msg":"parley started"');
    for (const [path, value] of Object.entries(values)) {
      expect(out, path).not.toContain(value);
      expect(out, `${path}, one line of it`).not.toContain(value.split("\n")[1] ?? value);
    }
  });
});
