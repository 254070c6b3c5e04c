/**
 * The producer side of delivery: storing jobs durably (DESIGN §3 "ack after durability").
 *
 * Group commit: enqueue calls made in the same turn of the event loop (e.g. 32 stanzas being
 * accepted at once) are stored in one MULTI, in call order, so per-conversation order is the order
 * of the calls. Each ordered job's place in its conversation's line and the job itself are stored
 * together or not at all (order.ts). Each caller resolves only once its jobs are in Redis; if the
 * transaction fails, every caller in it is told PARLEY_UNAVAILABLE.
 *
 * On a Redis Cluster a MULTI may touch one slot only: the batch is stored as one MULTI per queue
 * partition (each its own hash tag, names.ts), in parallel. Order needs no more: a conversation
 * lives in one partition. A caller whose jobs span partitions resolves when all are stored; if one
 * fails it is told PARLEY_UNAVAILABLE and its retry finds what was stored by key.
 *
 * A batch larger than `maxJobsPerTransaction` is stored as several MULTIs, one after another in
 * call order (a conversation's jobs keep their order; a failure stops the rest and fails the whole
 * batch, whose retry finds what was stored by key, as above). Redis spends time on a MULTI in
 * proportion to its jobs, and the producer's command timeout (500 ms) counts from the moment a
 * command is sent: one MULTI of 1,000 jobs outlasted it on a loaded machine and failed an enqueue
 * Redis was only slow to answer, while a Redis that does not answer at all must still be noticed
 * within that timeout. Each MULTI of at most 100 jobs is answered in a fraction of it.
 *
 * Back-pressure (backlog.ts): a caller with a job for a conversation whose line is at the bound is
 * told PARLEY_UNAVAILABLE and its jobs are left out of the batch. That check costs a round trip,
 * so while one runs, later batches wait for it (the gate): batches reach Redis in call order.
 */
import type { JobsOptions, Queue } from "bullmq";
import { Cluster, type ChainableCommander } from "ioredis";
import { ParleyError } from "../errors/index.js";
import type { Logger } from "../log/logger.js";
import type { Keyspace } from "../store/keys.js";
import { unavailable } from "../store/redis.js";
import { addJobInTransaction, definedScripts, isNoScript, openTransaction, type RedisClient } from "./bullmq.js";
import { jobIdForKey } from "./names.js";
import type { ResolvedOptions } from "./options.js";
import { registerInOrder } from "./order.js";
import { BacklogBound } from "./backlog.js";
import type { DeliveryMetrics } from "./metrics.js";
import { queueLabel } from "./names.js";
import { deliveryKeys, type JobData } from "./runner.js";
import type { DeliveryJobSpec } from "./types.js";

export interface GroupCommitDeps {
  readonly producer: RedisClient;
  readonly keys: Keyspace;
  readonly opts: ResolvedOptions;
  readonly log: Logger;
  /** The producer-side queue a spec goes to (throws PARLEY_INTERNAL when there is none). */
  queueFor(spec: DeliveryJobSpec): Queue<JobData>;
  readonly metrics?: DeliveryMetrics;
}

interface Caller { readonly specs: readonly DeliveryJobSpec[]; resolve(): void; reject(e: unknown): void }

export class GroupCommit {
  private batch: Caller[] | undefined;
  /** Resolves once the batch before has been stored (set only while a backlog check delays one). */
  private gate: Promise<void> | undefined;
  private readonly backlog: BacklogBound;

  constructor(private readonly d: GroupCommitDeps) {
    this.backlog = new BacklogBound(d.producer, d.opts.maxConversationBacklog, (ord, length) =>
      d.log.warn({ line: ord, length, bound: d.opts.maxConversationBacklog }, "conversation backlog at its bound: refusing new messages for it until it drains"));
  }

  /** Store `specs` with whatever else is enqueued in this turn of the event loop. */
  add(specs: readonly DeliveryJobSpec[]): Promise<void> {
    if (specs.length === 0) return Promise.resolve();
    try {
      for (const spec of specs) this.check(spec);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return new Promise<void>((resolve, reject) => {
      if (!this.batch) {
        this.batch = [];
        setImmediate(() => void this.flush());
      }
      this.batch.push({ specs, resolve, reject });
    });
  }

  /** The line (order.ts) of an ordered job; undefined for an unordered one. */
  private lineOf(spec: DeliveryJobSpec): string | undefined {
    if (spec.conversation === undefined) return undefined;
    return deliveryKeys(this.d.keys, this.d.queueFor(spec).name, jobIdForKey(spec.key), spec.conversation).line.ord;
  }

  /** A spec must name a network with queues; coalescing is for unordered jobs only. */
  private check(spec: DeliveryJobSpec): void {
    this.d.queueFor(spec);
    if (spec.coalesce && spec.conversation !== undefined) throw new ParleyError("PARLEY_INTERNAL", "coalesce is for unordered jobs only");
  }

  private async flush(): Promise<void> {
    let callers = this.batch;
    this.batch = undefined;
    if (!callers) return;
    const earlier = this.gate;
    const lines = callers.flatMap((c) => c.specs.map((s) => this.lineOf(s)).filter((o) => o !== undefined));
    const check = this.backlog.suspect(lines);
    let open = () => {};
    let gate: Promise<void> | undefined;
    if (earlier || check) {
      gate = new Promise<void>((r) => { open = r; });
      this.gate = gate;
    }
    try {
      if (earlier) await earlier;
      if (check) callers = this.refuseFull(callers, await this.backlog.over(lines));
      if (callers.length > 0) await this.store(callers.flatMap((c) => c.specs));
      for (const c of callers) c.resolve();
    } catch (e) {
      for (const c of callers) c.reject(e);
    } finally {
      if (this.gate === gate) this.gate = undefined;
      open();
    }
  }

  /** Refuse the callers with a job for a line in `full`; return the others. */
  private refuseFull(callers: readonly Caller[], full: ReadonlySet<string>): Caller[] {
    if (full.size === 0) return [...callers];
    const keep: Caller[] = [];
    for (const c of callers) {
      const over = c.specs.find((s) => { const o = this.lineOf(s); return o !== undefined && full.has(o); });
      if (!over) { keep.push(c); continue; }
      this.d.metrics?.backlogRefused.inc({ queue: queueLabel(this.d.queueFor(over).name) });
      c.reject(new ParleyError("PARLEY_UNAVAILABLE", `the conversation has ${this.d.opts.maxConversationBacklog} or more messages waiting; try later`));
    }
    return keep;
  }

  private async store(specs: readonly DeliveryJobSpec[]): Promise<void> {
    if (!(this.d.producer instanceof Cluster)) return this.storeGroup(specs);
    const groups = new Map<string, DeliveryJobSpec[]>();
    for (const spec of specs) {
      const name = this.d.queueFor(spec).name;
      groups.set(name, [...(groups.get(name) ?? []), spec]);
    }
    const results = await Promise.allSettled([...groups.values()].map((g) => this.storeGroup(g)));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  /** One partition's (or one Redis's) jobs: MULTIs of at most `maxJobsPerTransaction`, in order. */
  private async storeGroup(specs: readonly DeliveryJobSpec[]): Promise<void> {
    const max = this.d.opts.maxJobsPerTransaction;
    if (specs.length <= max) return this.storeChunk(specs);
    for (let i = 0; i < specs.length; i += max) await this.storeChunk(specs.slice(i, i + max));
  }

  private async storeChunk(specs: readonly DeliveryJobSpec[]): Promise<void> {
    try {
      await this.storeOnce(specs);
    } catch (e) {
      // Inside MULTI, ioredis cannot fall back from EVALSHA to EVAL when Redis lost its scripts
      // (SCRIPT FLUSH, a first EVAL refused under OOM, a promoted replica): load them all and try
      // once more. The retry is safe: what the failed transaction did store is recognised by key.
      if (!isNoScript(e)) throw e;
      await this.reloadScripts();
      await this.storeOnce(specs);
    }
  }

  /** Load every defined script again, on every master of a cluster. */
  private async reloadScripts(): Promise<void> {
    const producer = this.d.producer;
    const scripts = definedScripts(producer);
    const targets = producer instanceof Cluster ? producer.nodes("master") : [producer];
    try {
      await Promise.all(targets.flatMap((t) => scripts.map((lua) => t.script("LOAD", lua))));
    } catch (e) { throw unavailable(e, "the script load"); }
    this.d.log.info({ scripts: scripts.length }, "reloaded Lua scripts after NOSCRIPT");
  }

  jobOptions(spec: DeliveryJobSpec): JobsOptions {
    const jobId = jobIdForKey(spec.key);
    const base: JobsOptions = {
      attempts: this.d.opts.retry.attempts,
      backoff: { type: "parley" },
      removeOnComplete: true,
      removeOnFail: { age: this.d.opts.failedRetentionSeconds },
    };
    // A coalescing job gets BullMQ's own id; its key deduplicates instead.
    if (spec.coalesce) return { ...base, deduplication: { id: jobId, keepLastIfActive: true } };
    return { ...base, jobId };
  }

  private async storeOnce(specs: readonly DeliveryJobSpec[]): Promise<void> {
    let multi: ChainableCommander;
    const pending: Promise<unknown>[] = [];
    const lines: Array<{ ord: string; index: number }> = [];
    try {
      multi = await openTransaction(this.d.queueFor(specs[0]!));
      for (const spec of specs) {
        const queue = this.d.queueFor(spec);
        const opts = this.jobOptions(spec);
        const data: JobData = { kind: spec.kind, network: spec.network, key: spec.key, conversation: spec.conversation ?? null, payload: spec.payload };
        const added = addJobInTransaction(multi, queue, spec.kind, data, opts);
        added.catch(() => undefined);
        pending.push(added);
        if (spec.conversation !== undefined) {
          const id = opts.jobId!;
          const { line } = deliveryKeys(this.d.keys, queue.name, id, spec.conversation);
          lines.push({ ord: line.ord, index: registerInOrder(multi, line, id, this.d.opts) });
        }
      }
    } catch (e) {
      throw unavailable(e, "the enqueue");
    }
    let results: [Error | null, unknown][] | null;
    try {
      results = await multi.exec();
      await Promise.all(pending);
    } catch (e) {
      throw unavailable(e, "the enqueue");
    }
    if (!results) throw new ParleyError("PARLEY_UNAVAILABLE", "Redis aborted the enqueue transaction");
    const failed = results.find(([err]) => err !== null);
    if (failed) throw unavailable(failed[0], "the enqueue");
    for (const { ord, index } of lines) {
      const n = results[index]?.[1];
      if (typeof n === "number") this.backlog.seen(ord, n);
    }
  }
}
