/**
 * A private Postfix for tests (STACK.md "A private MTA for tests"): its own config directory,
 * queue, Maildirs and log under one work directory in /tmp, an smtpd on a free loopback port, and
 * the master in the foreground (`master -c DIR -d -s`) so its pid is ours to stop. Nothing under
 * /etc/postfix is written and no system service is started or altered.
 *
 * Routing inside the instance:
 *  - `catchAllDomains`: every recipient is delivered by virtual(8) into one Maildir per domain
 *    (`<maildirRoot>/<domain>/catchall/`); tests tell recipients apart by `Delivered-To`.
 *  - `bounceDomains`: accepted at SMTP (smtpd_reject_unlisted_recipient = no), then bounced by
 *    virtual(8) as "user unknown", so the sender gets an RFC 3464 DSN after the 250.
 *  - any other domain: refused at RCPT (554 5.7.1 relay access denied), for permanent-failure tests.
 *  - recipients listed by {@link setRecipientAccess}: refused at RCPT with the reply given there.
 *  - `relayDomains`: relayed to Parley's SMTP listener on 127.0.0.1:`parleyPort` (bounces to a
 *    VERP address and replies from mailboxes reach Parley this way).
 * Queue timers are tuned so a deferred message is retried within about a second.
 */
import { execFile, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../support/ports.js";
import { smtpSend } from "./smtp-client.js";
export { freePort };

const run = promisify(execFile);
const MASTER = "/usr/lib/postfix/sbin/master";

/** What a test needs to talk to the MTA (serialisable: passed through vitest's `provide`). */
export interface MtaCoordinates {
  /** Postfix's smtpd on 127.0.0.1 (the relay Parley sends through). */
  readonly smtpPort: number;
  /** The port Parley's SMTP listener must bind on 127.0.0.1 for mail Postfix relays to Parley. */
  readonly parleyPort: number;
  readonly confDir: string;
  readonly workDir: string;
  readonly maildirRoot: string;
  /** domain → Maildir path (catch-all) */
  readonly maildirs: Readonly<Record<string, string>>;
  readonly bounceDomains: readonly string[];
  readonly relayDomains: readonly string[];
  readonly hostname: string;
}

export interface MtaOptions {
  catchAllDomains?: readonly string[];
  bounceDomains?: readonly string[];
  relayDomains?: readonly string[];
  parleyPort?: number;
}


/** Install Postfix non-interactively when missing, without configuring or starting a system MTA. */
export async function ensurePostfix(): Promise<void> {
  const installed = await run("dpkg", ["-s", "postfix"]).then((r) => /Status: install ok installed/.test(r.stdout), () => false);
  if (installed && existsSync(MASTER)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  await run("sh", ["-c", "echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections"], { env });
  const apt = ["-y", "-o", "DPkg::Lock::Timeout=600"];
  const tryInstall = () => run("apt-get", ["install", ...apt, "--no-install-recommends", "postfix"], { env, maxBuffer: 16 << 20 });
  await tryInstall().catch(async () => {
    await run("apt-get", ["update", "-o", "DPkg::Lock::Timeout=600"], { env, maxBuffer: 16 << 20 });
    await tryInstall();
  });
}

function idOf(flag: "-u" | "-g", name: string): Promise<number> {
  return run("id", [flag, name]).then((r) => Number(r.stdout.trim()));
}

function mainCf(w: string, conf: string, uid: number, gid: number, o: Required<MtaOptions>): string {
  const virtualDomains = [...o.catchAllDomains, ...o.bounceDomains].join(" ");
  return `# private test instance written by test/harness/mta
compatibility_level = 3.6
queue_directory = ${w}/queue
data_directory = ${w}/data
mail_owner = postfix
myhostname = mta.parley.test
mydomain = parley.test
myorigin = $myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = reject_unauth_destination
smtpd_reject_unlisted_recipient = no
smtpd_recipient_restrictions = check_recipient_access texthash:${conf}/recipient_access
relay_domains = ${o.relayDomains.join(" ")}
transport_maps = texthash:${conf}/transport
virtual_mailbox_domains = ${virtualDomains}
virtual_mailbox_base = ${w}/mail
virtual_mailbox_maps = texthash:${conf}/vmailbox
virtual_uid_maps = static:${uid}
virtual_gid_maps = static:${gid}
virtual_minimum_uid = 1
local_transport = error:local delivery disabled
alias_maps =
alias_database =
maillog_file_prefixes = /tmp
maillog_file = ${w}/maillog
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
minimal_backoff_time = 1s
maximal_backoff_time = 2s
queue_run_delay = 1s
smtp_connect_timeout = 5s
delay_warning_time = 0
message_size_limit = 52428800
virtual_mailbox_limit = 0
biff = no
smtputf8_enable = no
`;
}

function masterCf(port: number): string {
  const rows = [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    "cleanup unix n - n - 0 cleanup",
    "qmgr unix n - n 300 1 qmgr",
    "rewrite unix - - n - - trivial-rewrite",
    "bounce unix - - n - 0 bounce",
    "defer unix - - n - 0 bounce",
    "trace unix - - n - 0 bounce",
    "verify unix - - n - 1 verify",
    "flush unix n - n 1000? 0 flush",
    "proxymap unix - - n - - proxymap",
    "smtp unix - - n - - smtp",
    "relay unix - - n - - smtp",
    "showq unix n - n - - showq",
    "error unix - - n - - error",
    "retry unix - - n - - error",
    "discard unix - - n - - discard",
    "virtual unix - n n - - virtual",
    "anvil unix - - n - 1 anvil",
    "scache unix - - n - 1 scache",
    "postlog unix-dgram n - n - 1 postlogd",
  ];
  return rows.join("\n") + "\n";
}

/** Write the private configuration and create the queue (does not start the master). */
export async function configureMta(options: MtaOptions = {}): Promise<MtaCoordinates> {
  const o: Required<MtaOptions> = {
    catchAllDomains: options.catchAllDomains ?? ["example.org"],
    bounceDomains: options.bounceDomains ?? ["nobody.example.org"],
    relayDomains: options.relayDomains ?? ["gw.example.org", "xmpp.gw.example.org", "matrix.gw.example.org", "chat.example.org"],
    parleyPort: options.parleyPort ?? (await freePort()),
  };
  const workDir = mkdtempSync("/tmp/parley-mta-");
  chmodSync(workDir, 0o755); // the postfix user must traverse it (STACK.md)
  const confDir = join(workDir, "conf");
  const maildirRoot = join(workDir, "mail");
  for (const d of [confDir, maildirRoot, join(workDir, "queue"), join(workDir, "data")]) mkdirSync(d, { mode: 0o755 });
  const [uid, gid] = [await idOf("-u", "postfix"), await idOf("-g", "postfix")];
  chownSync(maildirRoot, uid, gid);
  chownSync(join(workDir, "data"), uid, gid);
  writeFileSync(join(workDir, "maillog"), "");
  const smtpPort = await freePort();
  writeFileSync(join(confDir, "main.cf"), mainCf(workDir, confDir, uid, gid, o));
  writeFileSync(join(confDir, "master.cf"), masterCf(smtpPort));
  writeFileSync(join(confDir, "recipient_access"), "");
  writeFileSync(join(confDir, "transport"), o.relayDomains.map((d) => `${d} smtp:[127.0.0.1]:${o.parleyPort}\n`).join(""));
  const maildirs: Record<string, string> = {};
  for (const d of o.catchAllDomains) maildirs[d] = join(maildirRoot, d, "catchall");
  writeFileSync(join(confDir, "vmailbox"), o.catchAllDomains.map((d) => `@${d} ${d}/catchall/\n`).join(""));
  await run("postfix", ["-c", confDir, "check"]).catch((e: unknown) => {
    throw new Error(`postfix check failed; see ${workDir}/maillog: ${readFileSafe(join(workDir, "maillog"))}`, { cause: e });
  });
  return {
    smtpPort, parleyPort: o.parleyPort, confDir, workDir, maildirRoot, maildirs,
    bounceDomains: o.bounceDomains, relayDomains: o.relayDomains, hostname: "mta.parley.test",
  };
}

function readFileSafe(path: string): string {
  try { return readFileSync(path, "utf8").slice(-2000); } catch { return ""; }
}

function masterPid(c: MtaCoordinates): number | undefined {
  try {
    const pid = Number(readFileSync(join(c.workDir, "queue", "pid", "master.pid"), "utf8").trim());
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`MTA: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function smtpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    import("node:net").then(({ connect }) => {
      const s = connect(port, "127.0.0.1");
      s.once("data", (d) => { s.destroy(); resolve(d.toString().startsWith("220")); });
      s.once("error", () => resolve(false));
    }, () => resolve(false));
  });
}

/** Start the master in the foreground (detached from the caller) and wait for the 220 greeting. */
export async function startMta(c: MtaCoordinates): Promise<void> {
  if (masterPid(c) !== undefined) return;
  const child = spawn(MASTER, ["-c", c.confDir, "-d", "-s"], { detached: true, stdio: "ignore" });
  child.unref();
  await waitUntil("smtpd greeting", () => smtpAnswers(c.smtpPort));
}

/** Stop the master (TERM) and wait until its smtpd no longer answers. */
export async function stopMta(c: MtaCoordinates): Promise<void> {
  const pid = masterPid(c);
  if (pid === undefined) return;
  process.kill(pid, "SIGTERM");
  await waitUntil("master exit", () => masterPid(c) === undefined);
  await waitUntil("smtpd closed", async () => !(await smtpAnswers(c.smtpPort)));
}

/** Ask the queue manager to retry deferred mail now (`postqueue -f` needs the master running). */
export async function flushMta(c: MtaCoordinates): Promise<void> {
  await run("postqueue", ["-c", c.confDir, "-f"]).catch(() => undefined);
}

export function removeMta(c: MtaCoordinates): void {
  rmSync(c.workDir, { recursive: true, force: true });
}

/**
 * Make smtpd answer RCPT TO for these recipients with these replies (`check_recipient_access`),
 * e.g. `{ "carol@example.org": "450 4.7.1 Too much mail, slow down" }`; `{}` undoes it. Applied
 * by a reload (SIGHUP to the master); resolves once a probe recipient listed with the same reply
 * (or, for `{}`, accepted) shows the new table in force.
 */
export async function setRecipientAccess(c: MtaCoordinates, table: Readonly<Record<string, string>>): Promise<void> {
  const probe = `access-probe@${Object.keys(c.maildirs)[0] ?? "example.org"}`;
  const reply = Object.values(table)[0];
  const rows = reply === undefined ? table : { ...table, [probe]: reply };
  writeFileSync(join(c.confDir, "recipient_access"), Object.entries(rows).map(([who, answer]) => `${who} ${answer}\n`).join(""));
  const pid = masterPid(c);
  if (pid === undefined) throw new Error("MTA: not running");
  process.kill(pid, "SIGHUP");
  const want = reply === undefined ? 250 : Number(reply.slice(0, 3));
  await waitUntil("the new recipient access table in force", async () => {
    const r = await smtpSend(c.smtpPort, { from: "probe@parley.test", to: [probe] }, "Subject: access probe\r\n\r\nprobe\r\n");
    return r.rcpt[0] === want;
  });
}
