/**
 * A real Redis Cluster on loopback for tests and benches (no fake): 3 masters with one replica
 * each, every node a `redis-server` in cluster mode with AOF, joined by `redis-cli --cluster
 * create`. `start()` resolves once every slot is served, every node says `cluster_state:ok` and
 * every replica's link to its master is up; `destroy()` stops the nodes and removes their files.
 *
 * `cluster-node-timeout` is short (default 2 s) so a failover after `kill9(master)` completes
 * within a test; `masters()` and `replicaOf()` answer from the live cluster, not from start-up.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Cluster, Redis } from "ioredis";
import { freePort, RedisServer } from "./redis-server.js";

const exec = promisify(execFile);

export interface RedisClusterOptions {
  readonly appendfsync?: "always" | "everysec";
  readonly nodeTimeoutMs?: number;
}

export class RedisCluster {
  private constructor(readonly nodes: readonly RedisServer[]) {}

  static async start(opts: RedisClusterOptions = {}): Promise<RedisCluster> {
    const nodes: RedisServer[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        nodes.push(await RedisServer.start({
          appendonly: true,
          appendfsync: opts.appendfsync ?? "always",
          extraArgs: [
            "--cluster-enabled", "yes",
            "--cluster-port", String(await freePort()),
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", String(opts.nodeTimeoutMs ?? 2000),
          ],
        }));
      }
      await exec("redis-cli", ["--cluster", "create", ...nodes.map((n) => `127.0.0.1:${n.port}`), "--cluster-replicas", "1", "--cluster-yes"], { timeout: 30_000 });
      const cluster = new RedisCluster(nodes);
      await cluster.waitHealthy();
      return cluster;
    } catch (e) {
      for (const n of nodes) await n.destroy();
      throw e;
    }
  }

  /** Seed nodes as `host:port`, the form `redis.cluster` takes in Parley's config. */
  get seeds(): string[] { return this.nodes.map((n) => `127.0.0.1:${n.port}`); }

  /** A cluster client (for test checks; Parley makes its own from `seeds`). */
  client(): Cluster {
    return new Cluster(this.nodes.map((n) => ({ host: "127.0.0.1", port: n.port })), { redisOptions: { maxRetriesPerRequest: null } });
  }

  private async ask<T>(node: RedisServer, f: (r: Redis) => Promise<T>): Promise<T | undefined> {
    if (!node.running) return undefined;
    const r = new Redis(node.port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1000 });
    try {
      await r.connect();
      return await f(r);
    } catch {
      return undefined;
    } finally { r.disconnect(); }
  }

  /** The nodes (still running) that serve slots, by what the cluster itself says now. */
  async masters(): Promise<RedisServer[]> {
    const out: RedisServer[] = [];
    for (const n of this.nodes) {
      const role = await this.ask(n, async (r) => String(await r.call("ROLE")).split(",")[0]);
      if (role === "master") out.push(n);
    }
    return out;
  }

  /** Healthy: every running node sees the whole cluster ok, and every running replica's link is up. */
  async healthy(): Promise<boolean> {
    for (const n of this.nodes.filter((x) => x.running)) {
      const ok = await this.ask(n, async (r) => {
        const info = String(await r.call("CLUSTER", "INFO"));
        if (!info.includes("cluster_state:ok") || !info.includes("cluster_slots_ok:16384")) return false;
        const repl = await r.info("replication");
        return repl.includes("role:master") || repl.includes("master_link_status:up");
      });
      if (!ok) return false;
    }
    return true;
  }

  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!(await this.healthy())) {
      if (Date.now() > until) throw new Error(`the Redis Cluster was not healthy within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** How many distinct masters serve the slots of `keys` (by the live cluster's CLUSTER SLOTS). */
  async mastersServing(keys: readonly string[]): Promise<number> {
    const node = (await this.masters())[0];
    if (!node) return 0;
    const ports = await this.ask(node, async (r) => {
      const ranges = (await r.call("CLUSTER", "SLOTS")) as [number, number, [string, number]][];
      const out = new Set<number>();
      for (const key of keys) {
        const slot = Number(await r.call("CLUSTER", "KEYSLOT", key));
        const range = ranges.find(([lo, hi]) => slot >= lo && slot <= hi);
        if (range) out.add(range[2][1]);
      }
      return out;
    });
    return ports?.size ?? 0;
  }

  /** Redis CPU time (user + sys, µs) summed over the running nodes, from INFO cpu. */
  async cpuMicros(): Promise<number> {
    let total = 0;
    for (const n of this.nodes) total += (await this.ask(n, (r) => cpuMicrosOf(r))) ?? 0;
    return total;
  }

  /** `kill -9` of every node at once (a whole-cluster crash): only what each node fsynced survives. */
  async kill9All(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill9()));
  }

  /** Restart every stopped node on its port and directory (nodes.conf, AOF) and wait until healthy. */
  async restartAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.start()));
    await this.waitHealthy(60_000);
  }

  async destroy(): Promise<void> {
    for (const n of this.nodes) await n.destroy();
  }
}

/** A Redis server's CPU time so far (user + sys, µs), from INFO cpu. */
export async function cpuMicrosOf(r: Redis): Promise<number> {
  const info = await r.info("cpu");
  const num = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return Math.round((num("used_cpu_sys") + num("used_cpu_user")) * 1e6);
}
