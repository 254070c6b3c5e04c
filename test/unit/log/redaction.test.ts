/**
 * Secrets never reach a log line (DESIGN §5): every key a config schema marks with `secret()` —
 * XMPP's componentSecret, Matrix's tokens, an inline DKIM key, the admin token — is redacted
 * wherever it sits in a logged object, because the schema says it is a secret.
 */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { adapterFactories } from "../../../adapters/index.js";
import { createLogger } from "../../../src/log/logger.js";
import { isSecret, secret, secretKeys, secretPaths } from "../../../src/config/secret.js";
import { defOf, unwrap } from "../../../src/config/introspect.js";
import { CoreConfigSchema } from "../../../src/config/schema.js";

function capture(secrets = adapterFactories) {
  const lines: string[] = [];
  const log = createLogger({ level: "trace", secrets }, new Writable({ write(c: Buffer, _e, cb) { lines.push(c.toString()); cb(); } }));
  return { log, text: () => lines.join("") };
}

/** Every secret each adapter and the core declare, as paths into their sections. */
const declared = [
  ...adapterFactories.flatMap((f) => secretPaths(f.configSchema).map((path) => ({ owner: `adapters.${f.id}`, path }))),
  ...secretPaths(CoreConfigSchema).map((path) => ({ owner: "core", path })),
];

/** An object holding `value` at `path` (array steps become one-element arrays). */
function nest(path: readonly string[], value: string): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  return head === "*" ? [nest(rest, value)] : { [head!]: nest(rest, value) };
}

describe("log redaction driven by the config schemas", () => {
  it("finds the secrets the adapters declare, componentSecret among them", () => {
    const keys = adapterFactories.flatMap((f) => secretKeys(f.configSchema));
    expect(keys).toEqual(expect.arrayContaining(["componentSecret", "asToken", "hsToken", "privateKey"]));
    expect(secretKeys(CoreConfigSchema)).toContain("token");
  });

  it("componentSecret never appears in log output, at any depth a config is logged", () => {
    const { log, text } = capture();
    const value = "xmpp-component-secret-7f3a";
    const xmpp = { host: "127.0.0.1", componentSecret: value };
    log.info({ componentSecret: value }, "top");
    log.info(xmpp, "merged");
    log.info({ xmpp }, "section");
    log.info({ config: { adapters: { xmpp } } }, "whole config");
    log.child({ module: "x" }).warn({ link: { options: { componentSecret: value } } }, "child");
    log.child({ xmpp }).info("bound");
    expect(text()).not.toContain(value);
    expect(text()).toContain("[redacted]");
  });

  it.each(declared)("$owner $path never appears in log output", ({ path }) => {
    const { log, text } = capture();
    const value = `secret-value-${path.join("-")}`;
    log.info(nest(path, value) as object, "section");
    log.info({ config: { adapters: { any: nest(path, value) } } }, "nested");
    expect(text()).not.toContain(value);
  });

  it("every config key named like a secret (…secret, …token, …password, privateKey) is marked secret()", () => {
    const named: string[] = [];
    const walk = (schema: z.ZodType, path: readonly string[]): void => {
      const d = defOf(unwrap(schema));
      const key = path.at(-1) ?? "";
      if (/(secret|token|password|privatekey)$/i.test(key) && !isSecret(schema)) named.push(path.join("."));
      if (d.type === "object" && d.shape) for (const [k, child] of Object.entries(d.shape)) walk(child, [...path, k]);
      if (d.type === "array" && d.element) walk(d.element, [...path, "*"]);
      if (d.type === "record" && d.valueType) walk(d.valueType, [...path, "*"]);
    };
    walk(CoreConfigSchema, []);
    for (const f of adapterFactories) walk(f.configSchema, ["adapters", f.id]);
    expect(named).toEqual([]);
    expect(declared.map((d) => d.path.join("."))).toContain("media.listener.secret"); // media's signing key, once unmarked
  });

  it("a schema of a network the core has never heard of gets its secret redacted too", () => {
    const schema = z.object({ webhookKey: secret(z.string()), url: z.string() });
    const { log, text } = capture([{ configSchema: schema }] as never);
    log.info({ toy: { webhookKey: "hush-hush", url: "http://x" } }, "toy");
    expect(text()).not.toContain("hush-hush");
    expect(text()).toContain("http://x");
  });
});
