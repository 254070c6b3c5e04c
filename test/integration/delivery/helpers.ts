/** Helpers shared by the delivery integration tests (real Redis, a unique prefix per test). */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { DeliveryError } from "../../../src/adapter/contract.js";
import type { DeliveryHandler, DeliveryJob, DeliveryJobSpec } from "../../../src/delivery/types.js";
import { isParleyError } from "../../../src/errors/index.js";
import { asNetworkId, type NetworkId } from "../../../src/model/address.js";
import { deleteKeysUnder } from "../../../src/store/keys.js";

export const SHARED_REDIS = process.env.PARLEY_TEST_REDIS ?? "redis://127.0.0.1:6379";
export const NET: NetworkId = asNetworkId("xmpp");
export const NET2: NetworkId = asNetworkId("matrix");

export function uniquePrefix(name: string): string {
  return `ptest-${name}-${randomBytes(4).toString("hex")}`;
}

/** Poll a condition (not a sleep: it returns as soon as the condition holds). */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Enqueue as a source does: an answer "try later" (PARLEY_UNAVAILABLE, e.g. the fail-fast
 * producer's 500 ms command timeout on a loaded machine) is retried; enqueue is idempotent by key.
 * Returns how many times it was told "try later".
 */
export async function enqueueAsSource(svc: { enqueue(specs: readonly DeliveryJobSpec[]): Promise<void> }, specs: readonly DeliveryJobSpec[], timeoutMs = 30_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (let refused = 0; ; refused++) {
    try {
      await svc.enqueue(specs);
      return refused;
    } catch (e) {
      if (!isParleyError(e, "PARLEY_UNAVAILABLE") || Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 100)); // a source's retry delay
    }
  }
}

export async function cleanup(prefix: string, url = SHARED_REDIS): Promise<void> {
  const r = new Redis(url);
  try { await deleteKeysUnder(r, prefix); } finally { r.disconnect(); }
}

/** Test options: short timers so stalls, parks and retries happen within a test. */
export const FAST = {
  retry: { attempts: 4, baseMs: 20, capMs: 200 },
  parkMs: 2000,
  lockDurationMs: 2000,
  stalledIntervalMs: 1000,
} as const;

export interface Recorded { readonly key: string; readonly attempt: number; readonly conversation: string | undefined; readonly at: number }

/** An in-process handler that records deliveries and final failures; `behave` decides failures. */
export class RecordingHandler implements DeliveryHandler {
  readonly delivered: Recorded[] = [];
  readonly finalFailures: { job: DeliveryJob; error: DeliveryError }[] = [];
  constructor(public behave: (job: DeliveryJob) => Promise<void> | void = () => {}) {}
  async deliver(job: DeliveryJob): Promise<void> {
    await this.behave(job);
    this.delivered.push({ key: job.key, attempt: job.attempt, conversation: job.conversation, at: Date.now() });
  }
  async onFinalFailure(job: DeliveryJob, error: DeliveryError): Promise<void> {
    this.finalFailures.push({ job, error });
  }
  keys(): string[] { return this.delivered.map((d) => d.key); }
}

export function transient(msg = "try later"): DeliveryError { return new DeliveryError("transient", "unavailable", msg); }
export function permanent(msg = "no such user"): DeliveryError { return new DeliveryError("permanent", "recipient-unknown", msg); }
