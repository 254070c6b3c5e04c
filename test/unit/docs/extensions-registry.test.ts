/**
 * T-3.1.5: the extension registry (docs/extensions.md) is enforced — every namespace, private
 * header, content key and canonical status value that the code or the fixtures use is listed.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BasicSchema, ShowSchema } from "../../../src/model/presence.js";
import { SubscriptionStateSchema } from "../../../src/model/subscription.js";
import { DeliveryStateSchema, FailureReasonSchema } from "../../../src/model/delivery-status.js";

const root = new URL("../../../", import.meta.url).pathname;
const registry = readFileSync(join(root, "docs/extensions.md"), "utf8");
const listed = new Set([...registry.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const rel = join(dir, name);
    return statSync(join(root, rel)).isDirectory() ? files(rel, ext) : ext.test(name) ? [rel] : [];
  });
}

const NS_IN_CODE = /["'`]((?:urn:(?:ietf|xmpp|parley)|jabber:|https?:\/\/jabber\.org\/protocol\/|vcard-temp)[^"'`\s]*)["'`]/g;
const PRIVATE_NAMES = /["'`]((?:X-Parley-[A-Za-z-]+)|(?:org\.parley\.[a-z_.]+))["'`]/g;
const NS_IN_XML = /xmlns(?::[A-Za-z0-9_-]+)?=["'\\]+([^"'\\]+)["'\\]/g;

function unlisted(paths: readonly string[], re: RegExp): string[] {
  const found = new Map<string, string>();
  for (const p of paths) for (const m of readFileSync(join(root, p), "utf8").matchAll(re)) if (!listed.has(m[1]!)) found.set(m[1]!, p);
  return [...found].map(([v, p]) => `${v} (${p})`);
}

describe("extension registry (T-3.1.5)", () => {
  const code = [...files("src", /\.ts$/), ...files("adapters", /\.ts$/)];

  it("T-3.1.5 every namespace the code emits or reads is in docs/extensions.md", () => {
    expect(code.length).toBeGreaterThan(50);
    expect(unlisted(code, NS_IN_CODE)).toEqual([]);
  });

  it("T-3.1.5 every private header and Matrix content key the code writes is in docs/extensions.md", () => {
    expect(unlisted(code, PRIVATE_NAMES)).toEqual([]);
  });

  it("T-3.1.5 every namespace in the test fixtures is registered or a test's own example (urn:example:…)", () => {
    // Hostile corpora are input Parley must refuse: their namespaces are wrong on purpose.
    const fixtures = files("test/fixtures", /\.(xml|json|eml|txt)$/).filter((f) => !f.includes("/hostile/"));
    expect(unlisted(fixtures, NS_IN_XML).filter((v) => !v.startsWith("urn:example:") && !v.startsWith("http://www.w3.org/"))).toEqual([]);
  });

  it("T-3.1.5 every status value of the canonical model is in docs/extensions.md", () => {
    const values = [BasicSchema, ShowSchema, SubscriptionStateSchema, DeliveryStateSchema, FailureReasonSchema].flatMap((s) => s.options);
    expect(values.filter((v) => !listed.has(v))).toEqual([]);
  });

  it("the check can fail: a namespace missing from the page is reported", () => {
    expect(listed.has("urn:xmpp:receipts")).toBe(true);
    expect([..."'urn:xmpp:not-registered:0'".matchAll(NS_IN_CODE)].map((m) => m[1]).filter((v) => !listed.has(v!))).toEqual(["urn:xmpp:not-registered:0"]);
  });
});
