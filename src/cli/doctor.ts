/**
 * `parley doctor`: checks a deployment from the admin's side and says, for each problem, what is
 * wrong and how to fix it (issue 7). The core's checks live here (Redis reachable and durable,
 * the running gateway's readiness through the admin API); each network's checks (component
 * handshake, homeserver tokens, SMTP, DNS) are its adapter factory's `doctor`.
 *
 * Exit code: 0 when nothing failed (notes are fine), 1 when a check failed, 2 on wrong usage.
 */
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import type { GatewayConfig } from "../config/schema.js";
import type { DomainMappings } from "../mappings/types.js";
import { checkRedisDurability } from "../store/durability.js";
import { createProducerClient, mastersOf, waitForReady } from "../store/redis.js";
import type { AdapterFactory } from "../adapter/contract.js";
import type { Finding, FindingStatus } from "../adapter/declarations.js";
import type { CommandOutput } from "./config-check.js";
import { errorMessage } from "../errors/message.js";
import { checkDeployment } from "./doctor-deployment.js";
import { redactUrlSecrets } from "../log/redact-url.js";

export type { Finding, FindingStatus };

export interface DoctorContext {
  readonly config: GatewayConfig;
  readonly mappings: DomainMappings;
  /** Per network step (connect, handshake, request). */
  readonly timeoutMs: number;
}

/** A network's checks: run only when the config has that network's `adapters.<id>` section. */
export interface NetworkDoctor {
  readonly network: string;
  run(ctx: DoctorContext, section: unknown): Promise<Finding[]>;
}

/** The checks every adapter factory declares (`AdapterFactory.doctor`). */
export function doctorsOf(factories: readonly AdapterFactory<unknown>[]): NetworkDoctor[] {
  return factories.flatMap((f) => (f.doctor ? [{ network: f.id, run: (ctx: DoctorContext, section: unknown) => f.doctor!(ctx, section) }] : []));
}

export type LoadAll = (configPath: string | undefined) => Promise<{ config: GatewayConfig; mappings: DomainMappings } | CommandOutput>;

export const DOCTOR_USAGE = "usage: parley doctor [--config FILE] [--timeout MS]";


/** A Redis Cluster (`redis.cluster`): reachable, and every master set up to keep what Parley acknowledges. */
async function checkCluster(config: GatewayConfig, seeds: readonly string[], timeoutMs: number): Promise<Finding[]> {
  const cluster = createProducerClient({ url: config.redis.url, cluster: seeds, commandTimeoutMs: timeoutMs, connectionName: "parley-doctor" });
  cluster.on("error", () => undefined);
  try {
    await waitForReady(cluster, timeoutMs);
    await cluster.ping();
  } catch (e) {
    cluster.disconnect();
    return [{ check: "redis", status: "fail", detail: `the Redis Cluster at ${seeds.join(", ")} does not answer (${errorMessage(e)})`, fix: "start the cluster's nodes, or correct redis.cluster (host:port of some of its nodes)" }];
  }
  try {
    const masters = mastersOf(cluster);
    const out: Finding[] = [{ check: "redis", status: "ok", detail: `Redis Cluster at ${seeds.join(", ")} answers (${masters.length} masters)` }];
    for (const node of masters) {
      const report = await checkRedisDurability(node);
      for (const p of report.problems) out.push({ check: "redis persistence", status: p.startsWith("CONFIG is not available") ? "note" : "fail", detail: `${node.options.host}:${node.options.port}: ${p}`, fix: "on every node: appendonly yes, maxmemory-policy noeviction (docs/operations.md)" });
    }
    if (out.length === 1) out.push({ check: "redis persistence", status: "ok", detail: `every master: AOF or RDB on, maxmemory-policy noeviction` });
    return out;
  } finally {
    cluster.disconnect();
  }
}

/** Redis: reachable, and set up to keep what Parley acknowledges (AOF or RDB on, noeviction). */
export async function checkRedis(config: GatewayConfig, timeoutMs: number): Promise<Finding[]> {
  if (config.redis.cluster) return checkCluster(config, config.redis.cluster, timeoutMs);
  const url = redactUrlSecrets(config.redis.url);
  const redis = new Redis(config.redis.url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    return [{
      check: "redis", status: "fail", detail: `Redis at ${url} does not answer (${errorMessage(e)})`,
      fix: "start Redis (redis-server, or the redis service of docker/compose.yaml), or point redis.url / PARLEY_REDIS__URL at it",
    }];
  }
  try {
    const report = await checkRedisDurability(redis);
    const out: Finding[] = [{ check: "redis", status: "ok", detail: `Redis at ${url} answers` }];
    if (report.durable) {
      out.push({ check: "redis persistence", status: "ok", detail: `appendonly ${report.settings.appendonly ?? "?"}, maxmemory-policy ${report.settings.maxmemoryPolicy ?? "?"}` });
    }
    for (const p of report.problems) {
      const configMissing = p.startsWith("CONFIG is not available");
      out.push({
        check: "redis persistence", status: configMissing ? "note" : "fail", detail: p,
        ...(configMissing ? {} : { fix: "in redis.conf: appendonly yes, maxmemory-policy noeviction (live: redis-cli CONFIG SET appendonly yes; CONFIG SET maxmemory-policy noeviction; CONFIG REWRITE); see docs/operations.md" }),
      });
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

interface Readiness { ready: boolean; checks: Array<{ name: string; ready: boolean; detail: string }> }

/** The running gateway's own view through its admin API: is it up, and is each network's link ready? */
export async function checkRunningGateway(config: GatewayConfig, timeoutMs: number): Promise<Finding[]> {
  if (!config.admin.enabled) {
    return [{ check: "parley", status: "note", detail: "admin.enabled is false: cannot ask the running gateway whether its links are up" }];
  }
  const host = config.admin.host === "0.0.0.0" || config.admin.host === "::" ? "127.0.0.1" : config.admin.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${config.admin.port}/readyz`;
  let body: Readiness;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    body = (await res.json()) as Readiness;
  } catch (e) {
    return [{
      check: "parley", status: "fail", detail: `no Parley answers at ${url} (${errorMessage(e)})`,
      fix: "start it (parley start --config FILE, or the parley service); if it runs elsewhere, run doctor with that host's config",
    }];
  }
  const out: Finding[] = [{ check: "parley", status: "ok", detail: `the gateway answers at ${url}` }];
  for (const c of body.checks) {
    const link = c.name.startsWith("adapter.") ? `${c.name.slice("adapter.".length)} link` : c.name;
    out.push(c.ready
      ? { check: link, status: "ok", detail: `up (${c.detail})` }
      : { check: link, status: "fail", detail: `down: ${c.detail}`, fix: "see the checks of this network below and the gateway's log" });
  }
  return out;
}

export async function runDoctor(ctx: DoctorContext, networks: readonly NetworkDoctor[]): Promise<Finding[]> {
  const findings: Finding[] = [
    ...(await checkRedis(ctx.config, ctx.timeoutMs)),
    ...(await checkRunningGateway(ctx.config, ctx.timeoutMs)),
    ...(await checkDeployment(ctx.config, ctx.timeoutMs)),
  ];
  for (const n of networks) {
    const section = ctx.config.adapters[n.network];
    if (section === undefined) continue;
    try {
      findings.push(...(await n.run(ctx, section)));
    } catch (e) {
      findings.push({ check: n.network, status: "fail", detail: `the ${n.network} checks themselves failed: ${errorMessage(e)}` });
    }
  }
  return findings;
}

const MARK: Record<FindingStatus, string> = { ok: "ok  ", fail: "FAIL", note: "note" };

export function formatFindings(findings: readonly Finding[]): string[] {
  const lines = findings.flatMap((f) => [`${MARK[f.status]}  ${f.check}: ${f.detail}`, ...(f.fix ? [`      fix: ${f.fix}`] : [])]);
  const failed = findings.filter((f) => f.status === "fail").length;
  lines.push("", failed === 0 ? "No problems found." : `${failed} problem${failed === 1 ? "" : "s"} found.`);
  return lines;
}

/** `parley doctor [--config FILE] [--timeout MS]` (args after `doctor`). */
export async function doctorCommand(args: readonly string[], deps: { loadAll: LoadAll; networks: readonly NetworkDoctor[] }): Promise<CommandOutput> {
  let values;
  try {
    ({ values } = parseArgs({ args: [...args], options: { config: { type: "string" }, timeout: { type: "string", default: "3000" } }, strict: true, allowPositionals: false }));
  } catch (e) {
    return { exitCode: 2, lines: [`parley: ${errorMessage(e)}`, DOCTOR_USAGE] };
  }
  const timeoutMs = Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100) return { exitCode: 2, lines: ["parley: --timeout must be a whole number of milliseconds ≥ 100", DOCTOR_USAGE] };
  const loaded = await deps.loadAll(values.config);
  if ("exitCode" in loaded) return { exitCode: 1, lines: [...loaded.lines, "", "fix: the config or mappings above are invalid (parley config check shows the same)"] };
  const findings = await runDoctor({ config: loaded.config, mappings: loaded.mappings, timeoutMs }, deps.networks);
  const failed = findings.some((f) => f.status === "fail");
  // Print to stdout either way: the report is the output, not an error message.
  return { exitCode: failed ? 1 : 0, lines: formatFindings(findings) };
}
