/**
 * Issue 12 §5, RFC 8058: a linked room's list mail, through the real Postfix into its Maildir,
 * carries each member's own one-click link (`List-Unsubscribe: <http…?token>, <mailto:…>` and
 * `List-Unsubscribe-Post`, both DKIM-signed); the running endpoint unsubscribes on that POST only:
 * a GET shows a button and changes nothing, a forged or altered token is 403, a POST without
 * `List-Unsubscribe=One-Click` is 400, and the answer is the same for a member and a non-member.
 */
import { createServer } from "node:net";
import { authenticate } from "mailauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asNetworkId, canonicalAddress, endpoint } from "../../../src/model/address.js";
import { newCanonicalId } from "../../../src/model/ids.js";
import { linkedRoomKey } from "../../../src/model/room.js";
import { RoomDeliverySchema } from "../../../src/model/room-events.js";
import { RoomDirectory } from "../../../src/mappings/room-directory.js";
import { ListMembers } from "../../../adapters/email/list/members.js";
import { mtaCoordinates } from "../../harness/mta/inject.js";
import { waitForMail, readMaildir, type MaildirMessage } from "../../harness/mta/maildir.js";
import { emailMappings, resolver, startAdapter } from "./support.js";

const mta = mtaCoordinates();
const inbox = mta.maildirs["example.org"]!;
const STAMP = Date.now().toString(36);
const LIST = `club-${STAMP}@gw.example.org`;
const [carol, dave, erin] = ["carol", "dave", "erin"].map((n) => `${n}-${STAMP}@example.org`) as [string, string, string];
const to = (who: string) => (m: MaildirMessage) => m.header("delivered-to") === who;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

let s: Awaited<ReturnType<typeof startAdapter>>;
let members: ListMembers;

function say(text: string) {
  return s.adapter.deliverRoom(RoomDeliverySchema.parse({
    room: { key: linkedRoomKey("club"), address: "club@conference.chat.example.org", home: "xmpp" },
    target: { network: "email", id: LIST },
    activity: { type: "message", message: { id: newCanonicalId(), from: endpoint("alice@chat.example.org", "xmpp"), authenticatedBy: { method: "network" }, sentAt: new Date().toISOString(), parts: [{ role: "text", body: text }] } },
  }));
}

/** The https (here loopback http) link of a member's copy. */
function linkOf(m: MaildirMessage): string {
  const u = /<(http[^>]+)>/.exec(m.header("list-unsubscribe") ?? "")?.[1];
  if (!u) throw new Error(`no one-click link in ${m.header("list-unsubscribe")}`);
  return u;
}

const form = (body: string) => ({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });

beforeAll(async () => {
  const port = await freePort();
  const [xmpp, email] = [asNetworkId("xmpp"), asNetworkId("email")];
  const link = {
    key: linkedRoomKey("club"), origin: "linked" as const, name: "club", home: xmpp, address: canonicalAddress("club@conference.chat.example.org"),
    natives: new Map([[xmpp, { network: xmpp, id: "club@conference.chat.example.org" }], [email, { network: email, id: LIST }]]), source: { file: "<test>", line: 0 },
  };
  s = await startAdapter(mta, {
    listen: { host: "127.0.0.1", port: 0 },
    oneClick: { publicUrl: `http://127.0.0.1:${port}/`, listen: { host: "127.0.0.1", port }, secret: "one-click-test-key-0123456789" },
  }, { ...emailMappings(), rooms: new RoomDirectory([link]) });
  members = new ListMembers(s.ctx.state);
  for (const who of [carol, dave, erin]) await members.add(LIST, who);
}, 60_000);

afterAll(async () => { await s?.adapter.stop(); });

describe("RFC 8058 one-click unsubscribe on a list", () => {
  let carolsCopy: MaildirMessage;
  let davesCopy: MaildirMessage;

  it("every member's copy has its own signed one-click link beside the mailto, List-Unsubscribe-Post, and a DKIM signature over both", async () => {
    await say("first to the club");
    const copyOf = (who: string) => waitForMail(inbox, (m) => to(who)(m) && m.raw.includes("first to the club"), 30_000);
    [carolsCopy, davesCopy] = await Promise.all([copyOf(carol), copyOf(dave)]);
    for (const m of [carolsCopy, davesCopy]) {
      expect(m.header("list-unsubscribe")).toMatch(new RegExp(`^<http://127\\.0\\.0\\.1:\\d+/list/unsubscribe\\?[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}>, <mailto:${LIST.replace("@", "\\+unsubscribe@").replace(/\./g, "\\.")}>$`));
      expect(m.header("list-unsubscribe-post")).toBe("List-Unsubscribe=One-Click");
      expect(m.header("list-id")).toBe(`club <${LIST.replace("@", ".")}>`);
      const auth = await authenticate(m.raw, { ip: "127.0.0.1", helo: "mta.parley.test", sender: "bounces@gw.example.org", mta: "test", resolver });
      const dkim = auth.dkim.results[0]!;
      expect(dkim.status.result).toBe("pass");
      expect(dkim.signingHeaders?.keys.toLowerCase().split(":").map((k) => k.trim())).toEqual(expect.arrayContaining(["list-unsubscribe", "list-unsubscribe-post"]));
    }
    expect(linkOf(carolsCopy)).not.toBe(linkOf(davesCopy));
    // One copy per member: each Maildir copy was addressed to that member alone.
    expect(readMaildir(inbox).filter((m) => to(carol)(m) && m.raw.includes("first to the club"))).toHaveLength(1);
  });

  it("GET shows a button and unsubscribes no one (link scanners); a forged or altered token is 403; a POST without One-Click is 400", async () => {
    const page = await fetch(linkOf(carolsCopy));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<form method="post"');
    expect(html).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(await members.has(LIST, carol)).toBe(true);

    const carols = new URL(linkOf(carolsCopy));
    const [payload, mac] = carols.search.slice(1).split(".") as [string, string];
    const davesPayload = new URL(linkOf(davesCopy)).search.slice(1).split(".")[0]!;
    const flipped = `${mac.slice(0, -2)}${mac.at(-2) === "A" ? "B" : "A"}${mac.at(-1)}`;
    for (const bad of [`${davesPayload}.${mac}`, `${payload}.${flipped}`, payload, "", "x.y"]) {
      const r = await fetch(`${carols.origin}${carols.pathname}?${bad}`, form("List-Unsubscribe=One-Click"));
      expect(r.status, bad).toBe(403);
      expect((await fetch(`${carols.origin}${carols.pathname}?${bad}`)).status, `GET ${bad}`).toBe(403);
    }
    expect((await fetch(linkOf(carolsCopy), form("List-Unsubscribe=Something"))).status).toBe(400);
    expect((await fetch(linkOf(carolsCopy), { method: "POST" })).status).toBe(400);
    expect((await fetch(linkOf(carolsCopy), { method: "PUT" })).status).toBe(405);
    expect((await fetch(`${carols.origin}/elsewhere${carols.search}`)).status).toBe(404);
    expect(await members.all(LIST)).toEqual([carol, dave, erin].sort());
  });

  it("the RFC 8058 POST (or the page's button) unsubscribes that member only (urlencoded and multipart); the answer does not say whether they were a member", async () => {
    // Carol presses the page's button: the form's own action and hidden field, as a browser sends them.
    const pageHtml = await (await fetch(linkOf(carolsCopy))).text();
    const action = new URL(/<form method="post" action="([^"]*)"/.exec(pageHtml)![1]!, linkOf(carolsCopy)).href;
    const field = /<input type="hidden" name="([^"]+)" value="([^"]+)">/.exec(pageHtml)!;
    const first = await fetch(action, form(new URLSearchParams({ [field[1]!]: field[2]! }).toString()));
    expect(first.status).toBe(200);
    const firstBody = await first.text();
    expect(await members.has(LIST, carol)).toBe(false);
    expect(await members.has(LIST, dave)).toBe(true);
    // Again, now that carol is no member: the very same answer.
    const again = await fetch(linkOf(carolsCopy), form("List-Unsubscribe=One-Click"));
    expect(again.status).toBe(200);
    expect(await again.text()).toBe(firstBody);
    // RFC 8058 §3.2 prefers multipart/form-data.
    const multipart = new FormData();
    multipart.set("List-Unsubscribe", "One-Click");
    expect((await fetch(linkOf(davesCopy), { method: "POST", body: multipart })).status).toBe(200);
    expect(await members.all(LIST)).toEqual([erin]);

    await say("second to the club");
    await waitForMail(inbox, (m) => to(erin)(m) && m.raw.includes("second to the club"), 30_000);
    await say("third to the club");
    await waitForMail(inbox, (m) => to(erin)(m) && m.raw.includes("third to the club"), 30_000);
    for (const who of [carol, dave]) expect(readMaildir(inbox).filter((m) => to(who)(m) && m.raw.includes("to the club") && !m.raw.includes("first to the club"))).toHaveLength(0);
  });
});
