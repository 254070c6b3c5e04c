/**
 * Issue 12 §5: `parley email list subscribe|unsubscribe|members` on the real Redis — the members
 * the command writes are the ones the running adapter reads (same store, same keys), with the
 * same rules as a subscription by mail; unknown link, a link without a list and a malformed or
 * non-mailbox address get clear errors.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adapterFactories } from "../../../adapters/index.js";
import { ListMembers } from "../../../adapters/email/list/members.js";
import { asNetworkId } from "../../../src/model/address.js";
import { runCommand } from "../../../src/cli/main.js";
import { deleteKeysUnder, keyspace, RedisAdapterStateStore } from "../../../src/store/index.js";

const PREFIX = `test-listcli-${process.pid}-${Date.now().toString(36)}`;
const LIST = "team@lists.example.org";
let dir: string;
let config: string;
let redis: Redis;
const run = (...argv: string[]) => runCommand(["email", "list", ...argv, "--config", config], adapterFactories, {});
/** What the running adapter sees: its own state store under the same prefix. */
const adapterView = () => new ListMembers(new RedisAdapterStateStore(redis, keyspace(PREFIX), asNetworkId("email")));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "parley-listcli-"));
  writeFileSync(join(dir, "mappings.yaml"), [
    "networks:",
    "  xmpp: {}",
    "  matrix: { serverName: matrix.example.org }",
    "  email:",
    "    sharedDomains: { xmpp: xmpp.gw.example.org }",
    "domains:",
    "  chat.example.org:",
    "    home: xmpp",
    "    appearsOn: { email: { mailDomain: chat.example.org } }",
    "  example.org: { home: email }",
    "  lists.example.org: { home: email }",
    "  matrix.example.org: { home: matrix }",
    "rooms:",
    "  team:",
    "    home: xmpp",
    "    xmpp: team@conference.chat.example.org",
    `    email: ${LIST}`,
    "  quiet:",
    "    home: xmpp",
    "    xmpp: quiet@conference.chat.example.org",
    '    matrix: "#quiet:matrix.example.org"',
    "",
  ].join("\n"));
  config = join(dir, "parley.yaml");
  writeFileSync(config, `mappings: mappings.yaml\nadmin:\n  enabled: false\nredis:\n  keyPrefix: "${PREFIX}:"\n`);
  redis = new Redis({ lazyConnect: false });
});

afterAll(async () => {
  await deleteKeysUnder(redis, PREFIX);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe("parley email list", () => {
  it("subscribes, lists and unsubscribes a mailbox in the store the adapter reads; repeats are answered, not doubled", async () => {
    const added = await run("subscribe", "team", "Carol@Example.org");
    expect(added).toEqual({ exitCode: 0, lines: [`subscribed carol@example.org to ${LIST} (no confirmation mail is sent)`] });
    expect(await adapterView().has(LIST, "carol@example.org")).toBe(true);
    expect((await run("subscribe", "team", "carol@example.org")).lines).toEqual([`carol@example.org was already a member of ${LIST}`]);
    // A member who joined by mail is shown and removed the same way.
    await adapterView().add(LIST, "dave@example.org");
    expect(await run("members", "team")).toEqual({ exitCode: 0, lines: [`${LIST} (room link team): 2 members`, "  carol@example.org", "  dave@example.org"] });
    expect((await run("unsubscribe", "team", "dave@example.org")).lines).toEqual([`unsubscribed dave@example.org from ${LIST} (no mail is sent)`]);
    expect(await adapterView().all(LIST)).toEqual(["carol@example.org"]);
    expect(await run("unsubscribe", "team", "dave@example.org")).toEqual({ exitCode: 0, lines: [`dave@example.org was not a member of ${LIST}`] });
  });

  it("says what is wrong: unknown link, link without a list, malformed address, a chat user's mail form, wrong usage", async () => {
    const unknown = await run("subscribe", "nope", "carol@example.org");
    expect(unknown.exitCode).toBe(1);
    expect(unknown.lines.join("\n")).toBe('parley: no room link "nope" in the mappings (rooms: team, quiet)');
    const noList = await run("members", "quiet");
    expect(noList.exitCode).toBe(1);
    expect(noList.lines.join("\n")).toMatch(/the room link "quiet" has no list address: give it one as rooms\.quiet\.email in the mappings \(.*mappings\.yaml:\d+\)/);
    for (const bad of ["not-an-address", "a b@example.org", "x@@example.org"]) {
      const r = await run("subscribe", "team", bad);
      expect(r.exitCode, bad).toBe(1);
      expect(r.lines.join("\n"), bad).toContain(`"${bad}" is not a mailbox address`);
    }
    const puppet = await run("subscribe", "team", "alice@chat.example.org");
    expect(puppet).toEqual({ exitCode: 1, lines: ["parley: alice@chat.example.org is how a xmpp user appears by mail, not a mailbox: only mailboxes are list members"] });
    expect((await run("subscribe", "team")).exitCode).toBe(2);
    expect((await run("frobnicate", "team")).exitCode).toBe(2);
    expect(await adapterView().all(LIST)).toEqual(["carol@example.org"]);
  });

  it("runs as the parley command, in its own process", async () => {
    const bin = join(import.meta.dirname, "../../../bin/parley.js");
    const { stdout } = await promisify(execFile)(process.execPath, [bin, "email", "list", "subscribe", "team", "erin@example.org", "--config", config]);
    expect(stdout.trim()).toBe(`subscribed erin@example.org to ${LIST} (no confirmation mail is sent)`);
    expect(await adapterView().has(LIST, "erin@example.org")).toBe(true);
    const failed = await promisify(execFile)(process.execPath, [bin, "email", "list", "members", "quiet", "--config", config]).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toContain('the room link "quiet" has no list address');
  }, 60_000);
});
