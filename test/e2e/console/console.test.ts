/**
 * The web console in a real browser (issue 17): headless Chromium from Debian driven by
 * playwright-core, against a real gateway (Redis, BullMQ) whose XMPP link goes to a private
 * Prosody, with two test-double networks (alpha, beta) to carry messages. The test logs in, sees
 * the XMPP link go unhealthy when Prosody is stopped (and healthy again), finds a message by id
 * and sees its timeline, retries a dead letter and sees it delivered, and applies an edited
 * mapping and sees the next message routed by it.
 *
 * PARLEY_CONSOLE_SCREENSHOTS=1 also writes each page's screenshot to docs/images/ (docs/console.md).
 */
import { mkdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import { xmppAdapter } from "../../../adapters/xmpp/index.js";
import { endpoint, type Endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { MessageSchema, type Message } from "../../../src/model/message.js";
import { parseMappings } from "../../../src/mappings/load.js";
import { prepareProsody, removeProsodyDir, startProsody, stopProsody, type ProsodyCoordinates } from "../../harness/prosody/prosody.js";
import { CHROMIUM_ARGS } from "../../harness/chromium/chromium.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";
import { until } from "../../support/until.js";
import { alice, bob, twoNetworks } from "../../support/two-networks.js";

const TOKEN = "console-browser-token-0123456789";
const SHOTS = process.env.PARLEY_CONSOLE_SCREENSHOTS === "1" ? "docs/images" : undefined;
const carol = endpoint("carol@gamma.example", "beta");

const V1 = (p: ProsodyCoordinates) => `networks:
  xmpp:
    sharedDomains: { alpha: ${p.componentDomains[1]}, beta: ${p.componentDomains[2]} }
  alpha: {}
  beta: {}
domains:
  ${p.userDomain}: { home: xmpp }
  alpha.example: { home: alpha }
  beta.example: { home: beta }
`;

let prosody: ProsodyCoordinates;
let gw: TestGateway;
let browser: Browser;
let page: Page;
let base: string;
const nets = twoNetworks();

const message = (to: Endpoint = bob): Message =>
  MessageSchema.parse({ id: newCanonicalId(), from: alice, to, authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: "hello" }] });

async function send(to?: Endpoint): Promise<Message> {
  const m = message(to);
  const [r] = await gw.gateway.accept(alice.network, [{ kind: "message", message: m }]);
  expect(r?.status).toBe("accepted");
  return m;
}

async function shot(name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/console-${name}.png`, fullPage: true });
}

/** Reload `path` until `check` holds (the console is server-rendered: a fresh page is fresh state). */
async function reloadUntil(what: string, path: string, check: () => Promise<boolean>): Promise<void> {
  await until(what, async () => {
    await page.goto(`${base}${path}`);
    return (await check()) ? true : undefined;
  }, 30_000, 200);
}

async function findTrace(id: string): Promise<void> {
  await page.goto(`${base}/console/trace`);
  await page.getByLabel("Message id, native id or address").fill(id);
  await page.getByRole("button", { name: "Find" }).click();
}

beforeAll(async () => {
  prosody = await prepareProsody();
  await startProsody(prosody);
  const factories = [xmppAdapter, ...nets.factories];
  const parsed = parseMappings(V1(prosody), "<console test>", factories.map((f) => ({ id: f.id, addressing: f.addressing })));
  if (!parsed.ok) throw new Error(parsed.error.lines().join("\n"));
  gw = await startTestGateway({
    factories,
    adapters: {
      xmpp: { host: prosody.host, port: prosody.componentPort, componentSecret: prosody.componentSecret, reconnect: { baseMs: 100, maxMs: 500 } },
      alpha: {}, beta: {},
    },
    mappings: parsed.mappings,
    admin: { token: TOKEN },
  });
  expect(await gw.live.apply(V1(prosody), "start")).toMatchObject({ ok: true });
  const a = gw.adminAddress()!;
  base = `http://${a.host}:${a.port}`;
  browser = await chromium.launch({ executablePath: inject("chromium"), args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await gw?.destroy();
  if (prosody) { await stopProsody(prosody); removeProsodyDir(prosody); }
});

const linkState = (name: string) => page.locator("#links tr", { hasText: name }).locator(".badge").innerText();

describe("web console in Chromium", () => {
  it("logs in with the admin token and shows the links; the XMPP link goes unhealthy when Prosody stops, healthy when it is back", async () => {
    await page.goto(`${base}/console/`);
    await expect.poll(() => page.url()).toContain("/console/login");
    await shot("login");
    await page.getByLabel("Admin token").fill("not-the-token-at-all");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => page.getByRole("alert").innerText()).toContain("not the admin token");
    await page.getByLabel("Admin token").fill(TOKEN);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => page.locator("h1").innerText()).toBe("Overview");
    await reloadUntil("the XMPP link healthy", "/console/", async () => (await linkState("adapter.xmpp")) === "healthy");
    expect(await linkState("adapter.beta")).toBe("healthy");
    await shot("overview");
    await stopProsody(prosody);
    await reloadUntil("the XMPP link unhealthy", "/console/", async () => (await linkState("adapter.xmpp")) === "unhealthy");
    expect(await page.locator("#domains tr", { hasText: prosody.userDomain }).innerText()).toContain("unhealthy");
    await startProsody(prosody);
    await reloadUntil("the XMPP link healthy again", "/console/", async () => (await linkState("adapter.xmpp")) === "healthy");
  });

  it("finds a message by id and draws its hops as a timeline", async () => {
    const m = await send();
    await until("delivered", () => nets.betaPeer.messages.find((x) => x.id === m.id));
    await until("trace complete", async () => ((await gw.traces.trace(m.id))?.hops.some((h) => h.hop === "relayed") ? true : undefined));
    await findTrace(m.id);
    const section = page.locator(`section.trace[data-message-id="${m.id}"]`);
    await expect.poll(() => section.count()).toBe(1);
    expect(await section.locator("svg.timeline g").count()).toBe(5);
    const hops = await section.locator("tbody tr td:nth-child(3)").allInnerTexts();
    expect(hops).toEqual(["accepted", "routed", "enqueued", "attempt", "relayed"]);
    await shot("trace");
  });

  it("lists a dead letter, retries it from the page and sees it delivered", async () => {
    nets.betaPeer.failWith = "permanent";
    const m = await send();
    await until("dead letter", async () => (await gw.delivery.listFailed()).find((j) => j.key.includes(m.id)));
    nets.betaPeer.failWith = undefined;
    await page.goto(`${base}/console/dlq`);
    const row = page.locator("tbody tr", { hasText: m.id });
    expect(await row.innerText()).toContain("recipient-unknown");
    await shot("dead-letters");
    await row.locator("a").first().click(); // the job's own page: its facts and its message's timeline
    await expect.poll(() => page.locator("h1").innerText()).toBe("Dead letter");
    expect(await page.locator("dl.facts").innerText()).toContain("recipient-unknown");
    expect(await page.locator(`section.trace[data-message-id="${m.id}"] svg.timeline`).count()).toBe(1);
    await shot("dead-letter");
    await page.goto(`${base}/console/dlq`);
    await row.getByRole("button", { name: "Retry" }).click();
    await expect.poll(() => page.getByRole("status").innerText()).toContain("Retried");
    await until("delivered after the retry", () => nets.betaPeer.messages.find((x) => x.id === m.id));
    await findTrace(m.id);
    await expect.poll(async () => {
      await findTrace(m.id);
      return page.locator("tbody tr td:nth-child(3)").allInnerTexts();
    }).toContain("relayed");
    expect(await page.locator("tbody tr td:nth-child(3)").allInnerTexts()).toContain("failed");
  });

  it("validates an edited mapping with file and line, applies it, and routes the next message by it", async () => {
    const before = await send(carol);
    await until("routed by open federation", async () => (await gw.traces.trace(before.id))?.hops.find((h) => h.hop === "routed"));
    await page.goto(`${base}/console/mappings`);
    const editor = page.getByLabel("Mappings (YAML)");
    const text = await editor.inputValue();
    expect(text).toContain("beta.example");
    await editor.fill(`${text}  delta.example: { home: nowhere }\n`);
    await page.getByRole("button", { name: "Validate" }).click();
    await expect.poll(() => page.getByRole("alert").innerText()).toMatch(/:10: .*delta\.example/);
    await shot("mappings");
    await page.getByLabel("Mappings (YAML)").fill(`${text}  gamma.example: { home: beta }\n`);
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.getByRole("status").innerText()).toMatch(/Applied as version \d+/);
    const after = await send(carol);
    await until("delivered", () => nets.betaPeer.messages.find((x) => x.id === after.id));
    await expect.poll(async () => {
      await findTrace(after.id);
      return page.locator("tbody tr", { hasText: "routed" }).innerText();
    }).toContain("via=listed domain gamma.example");
    await findTrace(before.id);
    expect(await page.locator("tbody tr", { hasText: "routed" }).innerText()).toContain("via=open federation");
  });

  it("shows an address's presence and subscriptions", async () => {
    await page.goto(`${base}/console/presence?address=${encodeURIComponent(bob.address)}`);
    expect(await page.locator("h2").first().innerText()).toContain(`beta/${bob.address}`);
    expect(await page.locator("#watchers").innerText()).toContain("nobody watches");
    await shot("presence");
  });
});
