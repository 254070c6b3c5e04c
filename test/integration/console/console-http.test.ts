/**
 * The web console over plain HTTP (issue 17), on a real gateway and Redis: the login, the session
 * cookie and CSRF rules, the security headers, and escaping. The browser test
 * (test/e2e/console/) drives the same pages in Chromium.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";
import { until } from "../../support/until.js";
import { alice, aliceToBob, twoNetworkMappings, twoNetworks } from "../../support/two-networks.js";

const TOKEN = "console-test-token-0123456789";
let gw: TestGateway | undefined;
afterEach(async () => { await gw?.destroy(); gw = undefined; });

async function start(beta: Record<string, unknown> = {}) {
  const nets = twoNetworks();
  gw = await startTestGateway({ factories: nets.factories, adapters: { alpha: {}, beta }, mappings: twoNetworkMappings, admin: { token: TOKEN } });
  const a = gw.adminAddress()!;
  return { ...nets, base: `http://${a.host}:${a.port}` };
}

const form = (o: Record<string, string>) => ({ method: "POST", redirect: "manual" as const, headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(o).toString() });

async function login(base: string): Promise<string> {
  const r = await fetch(`${base}/console/login`, form({ token: TOKEN, next: "/console/dlq" }));
  expect(r.status).toBe(303);
  expect(r.headers.get("location")).toBe("/console/dlq");
  const cookie = r.headers.get("set-cookie") ?? "";
  expect(cookie).toMatch(/HttpOnly/);
  expect(cookie).toMatch(/SameSite=Strict/);
  return cookie.split(";")[0]!;
}

async function page(base: string, cookie: string, path: string): Promise<{ status: number; text: string; headers: Headers }> {
  const r = await fetch(`${base}${path}`, { headers: { cookie }, redirect: "manual" });
  return { status: r.status, text: await r.text(), headers: r.headers };
}

const csrfOf = (text: string) => /name="_csrf" value="([^"]+)"/.exec(text)?.[1] ?? "";

describe("web console over HTTP", () => {
  it("asks for the admin token, then serves every page with a strict CSP, no script and nothing from another origin", async () => {
    const { base } = await start();
    const anon = await fetch(`${base}/console/trace?q=x`, { redirect: "manual" });
    expect(anon.status).toBe(303);
    expect(anon.headers.get("location")).toBe("/console/login?next=%2Fconsole%2Ftrace%3Fq%3Dx");
    expect((await fetch(`${base}/console/login`, form({ token: "wrong-token-wrong-token" }))).status).toBe(401);
    // The session cookie is not the admin API's bearer token.
    const cookie = await login(base);
    expect(cookie).not.toContain(TOKEN);
    expect((await fetch(`${base}/queues`, { headers: { cookie } })).status).toBe(401);
    for (const path of ["/console/", "/console/trace", "/console/dlq", "/console/presence", "/console/mappings"]) {
      const p = await page(base, cookie, path);
      expect(p.status, path).toBe(200);
      expect(p.headers.get("content-security-policy")).toMatch(/default-src 'none'.*form-action 'self'.*frame-ancestors 'none'/);
      expect(p.headers.get("content-security-policy")).not.toMatch(/unsafe|script-src/);
      expect(p.text).not.toMatch(/<script|\sstyle="|\son[a-z]+=/i);
      expect(p.text).not.toMatch(/(src|href|action)="(https?:)?\/\//);
    }
    expect((await page(base, cookie, "/console/")).text).toMatch(/adapter\.beta[\s\S]*healthy/);
  });

  it("a POST without the session's CSRF token changes nothing; with it, a dead letter is retried and delivered", async () => {
    const { base, betaPeer } = await start({ failWith: "permanent" });
    const m = aliceToBob("dead letter");
    await gw!.gateway.accept(alice.network, [{ kind: "message", message: m }]);
    const dead = await until("dead letter", async () => (await gw!.delivery.listFailed()).find((j) => j.key.includes(m.id)));
    const cookie = await login(base);
    const forged = await fetch(`${base}/console/dlq/retry`, { ...form({ id: dead.id, _csrf: "forged" }), headers: { ...form({}).headers, cookie } });
    expect(forged.status).toBe(403);
    const noSession = await fetch(`${base}/console/dlq/retry`, form({ id: dead.id, _csrf: csrfOf((await page(base, cookie, "/console/dlq")).text) }));
    expect(noSession.status).toBe(403);
    expect((await gw!.delivery.listFailed()).map((j) => j.id)).toContain(dead.id);
    betaPeer.failWith = undefined;
    const dlq = await page(base, cookie, "/console/dlq");
    expect(dlq.text).toContain(m.id);
    const ok = await fetch(`${base}/console/dlq/retry`, { ...form({ id: dead.id, _csrf: csrfOf(dlq.text) }), headers: { ...form({}).headers, cookie } });
    expect(ok.status).toBe(303);
    await until("delivered after retry", () => betaPeer.messages.find((x) => x.id === m.id));
  });

  it("escapes what it shows: a query with markup is shown as text", async () => {
    const { base } = await start();
    const cookie = await login(base);
    const p = await page(base, cookie, `/console/trace?q=${encodeURIComponent('<img src=x onerror="alert(1)">')}`);
    expect(p.text).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(p.text).not.toContain("<img");
    const logout = await fetch(`${base}/console/logout`, { ...form({ _csrf: csrfOf(p.text) }), headers: { ...form({}).headers, cookie } });
    expect(logout.headers.get("set-cookie")).toMatch(/Max-Age=0/);
  });
});
