/**
 * Issue 14: docker/compose.yaml's `cluster` profile — six Redis nodes in cluster mode with AOF and
 * no eviction, a one-shot that creates 3 masters with one replica each, one Parley ingress and
 * scalable workers (no port) on the cluster's seeds. The file itself passes `docker-compose config
 * -q` with the profile in the docker tier (test/integration/docker/image-steps.test.ts); here its
 * structure and the seeds variable, read by Parley's own config loader.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseConfig } from "../../../src/config/load.js";

interface Service { profiles?: string[]; command?: string[]; environment?: Record<string, string>; ports?: string[]; depends_on?: Record<string, unknown> }
const compose = parse(readFileSync(new URL("../../../docker/compose.yaml", import.meta.url), "utf8"), { merge: true }) as { services: Record<string, Service> };
const inCluster = Object.entries(compose.services).filter(([, s]) => s.profiles?.includes("cluster"));

describe("docker compose: the cluster profile (issue 14)", () => {
  it("has six Redis nodes in cluster mode with AOF and noeviction, created as 3 masters + 3 replicas", () => {
    const nodes = inCluster.filter(([name]) => /^redis-node-\d$/.test(name));
    expect(nodes.map(([n]) => n)).toEqual(["redis-node-1", "redis-node-2", "redis-node-3", "redis-node-4", "redis-node-5", "redis-node-6"]);
    for (const [, s] of nodes) expect(s.command!.join(" ")).toMatch(/--cluster-enabled yes.*--appendonly yes.*--maxmemory-policy noeviction/);
    const init = compose.services["redis-cluster-init"]!;
    expect(init.command!.join(" ")).toMatch(/--cluster create (redis-node-\d:6379 ){6}--cluster-replicas 1/);
    expect(Object.keys(init.depends_on!)).toHaveLength(6);
  });

  it("runs one ingress and workers (no ports) on the cluster's seeds, which Parley's config accepts", () => {
    const ingress = compose.services["parley-cluster-ingress"]!;
    const workers = compose.services["parley-cluster-workers"]!;
    expect(ingress.command).toEqual(["start", "--config", "/data/parley.yaml", "--role", "ingress"]);
    expect(workers.command).toEqual(["start", "--config", "/data/parley.yaml", "--role", "workers"]);
    expect(workers.ports).toBeUndefined();
    for (const s of [ingress, workers]) expect(s.profiles).toEqual(["cluster"]);
    const seeds = workers.environment!.PARLEY_REDIS__CLUSTER!;
    const r = parseConfig("admin: { enabled: false }\n", "c.yaml", { adapters: [], env: { PARLEY_REDIS__CLUSTER: seeds } });
    expect(r.ok && r.config.redis.cluster).toEqual(["redis-node-1:6379", "redis-node-2:6379", "redis-node-3:6379"]);
  });

  it("leaves the single-Redis services out of the profile (the default `docker compose up` is unchanged)", () => {
    for (const name of ["redis", "parley", "parley-worker"]) expect(compose.services[name]!.profiles).toBeUndefined();
  });
});
