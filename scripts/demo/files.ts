/**
 * What the demo writes into its directory (`.demo/` by default): Parley's domain mappings and
 * gateway config, and a `peers.json` with every peer's coordinates. The demo's domains do not
 * exist in DNS: everything listens on loopback.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

/** The demo's domains (one company with three systems). */
export const DEMO = {
  xmppDomain: "chat.demo",
  matrixServer: "matrix.demo",
  mailDomain: "mail.demo",
  /** Component domains the XMPP server must declare (own appearances and the shared forms). */
  componentDomains: ["matrix.demo", "mail.demo", "matrix.gw.demo", "email.gw.demo"],
  /** Mail domains Postfix relays to Parley's SMTP listener. */
  relayDomains: ["chat.demo", "matrix.demo", "gw.demo", "xmpp.gw.demo", "matrix.gw.demo"],
  bounceAddress: "bounces@gw.demo",
  appserviceId: "parley-demo",
} as const;

export function demoMappingsYaml(): string {
  const mappings = {
    networks: {
      xmpp: { sharedDomains: { matrix: "matrix.gw.demo", email: "email.gw.demo" } },
      matrix: { serverName: DEMO.matrixServer, puppetPrefix: "_parley_", botLocalpart: "parley" },
      email: { sharedDomains: { xmpp: "xmpp.gw.demo", matrix: "matrix.gw.demo" } },
    },
    domains: {
      [DEMO.xmppDomain]: { home: "xmpp", appearsOn: { email: { mailDomain: DEMO.xmppDomain }, matrix: { prefix: "_chat_" } } },
      [DEMO.matrixServer]: { home: "matrix", appearsOn: { xmpp: { componentDomain: DEMO.matrixServer }, email: { mailDomain: DEMO.matrixServer } } },
      [DEMO.mailDomain]: { home: "email", presence: false, appearsOn: { xmpp: { componentDomain: DEMO.mailDomain }, matrix: { prefix: "_mail_" } } },
    },
    defaults: { acceptUnauthenticated: false, access: { subscribe: "approval" } },
  };
  return `# Domain mappings of the Parley demo (written by scripts/demo; see docs/mappings.md)\n${stringify(mappings)}`;
}

export interface DemoConfigInput {
  readonly redisUrl: string;
  readonly keyPrefix: string;
  readonly adminPort: number;
  readonly adminTokenFile: string;
  readonly xmpp: { host: string; port: number; componentSecret: string };
  readonly matrix: { homeserverUrl: string; asToken: string; hsToken: string; registrationFile: string; port: number };
  /** `blobDir`: the blob store (`media.dir`, and the email adapter's deprecated fallback). */
  readonly email: { listenPort: number; relayPort: number; blobDir: string };
}

/** Parley's gateway config for the demo: every adapter on loopback, short retries. */
export function demoConfigYaml(c: DemoConfigInput): string {
  const config = {
    mappings: "mappings.yaml",
    redis: { url: c.redisUrl, keyPrefix: c.keyPrefix },
    admin: { enabled: true, host: "127.0.0.1", port: c.adminPort, tokenFile: c.adminTokenFile },
    delivery: { attempts: 3, backoffBaseMs: 200, backoffCapMs: 1_000, concurrency: 8 },
    log: { level: "info" },
    // The blob store in the demo's own directory: the default ./data/blobs is relative to the
    // working directory, which for `npm run demo` (and the demo's test) is the checkout.
    media: { dir: c.email.blobDir },
    adapters: {
      xmpp: { host: c.xmpp.host, port: c.xmpp.port, componentSecret: c.xmpp.componentSecret, reconnect: { baseMs: 200, maxMs: 2_000 } },
      matrix: {
        homeserverUrl: c.matrix.homeserverUrl, appserviceId: DEMO.appserviceId, asToken: c.matrix.asToken, hsToken: c.matrix.hsToken,
        registrationFile: c.matrix.registrationFile, listen: { host: "127.0.0.1", port: c.matrix.port },
      },
      email: {
        listen: { host: "127.0.0.1", port: c.email.listenPort },
        hostname: "parley.demo",
        outbound: { mode: "relay", host: "127.0.0.1", port: c.email.relayPort, opportunisticTLS: false, connectionTimeoutMs: 3_000 },
        bounceAddress: DEMO.bounceAddress,
        blobDir: c.email.blobDir,
      },
    },
  };
  return `# Parley's config for the demo (written by scripts/demo). The secrets are inline because the\n# demo's peers are throw-away; a real deployment keeps them in files (docs/deployment.md).\n${stringify(config)}`;
}

/**
 * The demo's DNS, served to the email adapter's SPF/DKIM/DMARC checks: mail.demo's SPF names the
 * local MTA, so the mailbox's mail relayed by it is proved (aligned SPF, no DMARC record).
 */
export const DEMO_TXT: Readonly<Record<string, readonly string[]>> = {
  [DEMO.mailDomain]: ["v=spf1 ip4:127.0.0.1 -all"],
};

export async function demoResolver(name: string, type: string): Promise<string[][]> {
  const records = type === "TXT" ? DEMO_TXT[name.toLowerCase().replace(/\.$/, "")] : undefined;
  if (!records) throw Object.assign(new Error(`no ${type} for ${name}`), { code: "ENOTFOUND" });
  return records.map((r) => [r]);
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  return path;
}
