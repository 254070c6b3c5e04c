/**
 * `parley doctor`'s view of the whole deployment (issue 14): the processes that report to Redis
 * (src/store/processes.ts) and their roles. A deployment of several processes is healthy when
 * some process receives (role ingress or all) with each network's link up, and some process takes
 * each network's deliveries (role workers or all; a network delivered over its link, XMPP, by the
 * ingress holding that link).
 */
import type { GatewayConfig } from "../config/schema.js";
import type { Finding } from "../adapter/declarations.js";
import { createProducerClient, waitForReady } from "../store/redis.js";
import { keyspace } from "../store/keys.js";
import { processReports, STALE_MS, type ProcessReport } from "../store/processes.js";

const nameOf = (p: ProcessReport): string => `${p.role} ${p.host}:${p.pid}`;
const names = (ps: readonly ProcessReport[]): string => ps.map(nameOf).join(", ");

function summary(live: readonly ProcessReport[]): string {
  const count = (role: ProcessReport["role"]) => live.filter((p) => p.role === role).length;
  const parts = (["all", "ingress", "workers"] as const).filter((r) => count(r) > 0).map((r) => `${count(r)} ${r}`);
  return `${live.length} process${live.length === 1 ? "" : "es"} (${parts.join(", ")}): ${names(live)}`;
}

/** Per configured network: is it received somewhere, and delivered somewhere? */
function networkFindings(network: string, live: readonly ProcessReport[]): Finding[] {
  const has = (p: ProcessReport, test: (x: ProcessReport["networks"][number]) => boolean) => p.networks.some((x) => x.network === network && test(x));
  const ingress = live.filter((p) => p.role !== "workers");
  const receiving = ingress.filter((p) => has(p, (x) => x.ready));
  const delivering = live.filter((p) => has(p, (x) => x.delivering));
  const out: Finding[] = [];
  if (ingress.length > 0) {
    out.push(receiving.length > 0
      ? { check: `${network} ingress`, status: "ok", detail: `link up in ${names(receiving)}` }
      : { check: `${network} ingress`, status: "fail", detail: `no ingress process has its ${network} link up`, fix: `see the ${network} checks below and the ingress process's log` });
  }
  out.push(delivering.length > 0
    ? { check: `${network} deliveries`, status: "ok", detail: `taken by ${names(delivering)}` }
    : { check: `${network} deliveries`, status: "fail", detail: `no process takes ${network} deliveries: they wait in the queue`, fix: `start a process with --role workers (or all) whose ${network} adapter reaches the network; a network delivered over its link (XMPP) is delivered by the ingress holding it` });
  return out;
}

export async function checkDeployment(config: GatewayConfig, timeoutMs: number, now = Date.now()): Promise<Finding[]> {
  const prefix = config.redis.keyPrefix.replace(/:+$/, "");
  const redis = createProducerClient({ url: config.redis.url, cluster: config.redis.cluster, commandTimeoutMs: timeoutMs, connectionName: "parley-doctor" });
  redis.on("error", () => undefined);
  let reports;
  try {
    await waitForReady(redis, timeoutMs);
    reports = await processReports(redis, keyspace(prefix, { cluster: config.redis.cluster !== undefined }), now);
  } catch {
    return []; // Redis itself is reported above
  } finally {
    redis.disconnect();
  }
  const { live, stale } = reports;
  const out: Finding[] = stale.map((p) => ({ check: "deployment", status: "note" as const, detail: `${nameOf(p)} last reported ${Math.round((now - p.seenAt) / 1000)} s ago: killed, or its clock is off` }));
  if (live.length === 0) {
    return [...out, { check: "deployment", status: "fail", detail: `no Parley process has reported under the prefix "${prefix}" in the last ${STALE_MS / 1000} s`, fix: "start Parley with this config's redis and keyPrefix (parley start, or --role ingress and --role workers processes)" }];
  }
  out.push({ check: "deployment", status: "ok", detail: summary(live) });
  if (!live.some((p) => p.role !== "workers")) out.push({ check: "deployment", status: "fail", detail: "no process receives (none has role ingress or all)", fix: "start one with parley start --role ingress" });
  if (!live.some((p) => p.role !== "ingress")) out.push({ check: "deployment", status: "fail", detail: "no process runs the delivery workers (none has role workers or all)", fix: "start one or more with parley start --role workers" });
  for (const network of Object.keys(config.adapters).filter((n) => config.adapters[n] !== undefined)) out.push(...networkFindings(network, live));
  return out;
}
