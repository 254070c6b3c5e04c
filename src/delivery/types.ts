/**
 * The durable delivery service's interface (DESIGN §3). Implemented on BullMQ in this folder;
 * the gateway feeds it and hands it a {@link DeliveryHandler} that calls the adapters.
 */
import type { NetworkId } from "../model/address.js";
import type { DeliveryError, HandOn, PendingConfirm } from "../adapter/contract.js";

export type JobKind = "message" | "status" | "subscription" | "presence" | "room";

export interface DeliveryJobSpec {
  readonly kind: JobKind;
  /** The adapter that performs the job. Each (kind, network) has its own queue, so a kill switch pauses one network. */
  readonly network: NetworkId;
  /**
   * Ordering key. Jobs with the same key run in the order they were enqueued, across retries,
   * restarts and several worker processes; a job waiting for a retry holds back only its own key.
   * Absent: unordered (presence, which is state and coalesces instead).
   */
  readonly conversation?: string;
  /**
   * Stable identity of this job (e.g. `<canonicalId>.<target>`): enqueueing the same key again is a
   * no-op, and the sent marker is keyed by it so a redelivered job is not sent twice.
   */
  readonly key: string;
  /**
   * Unordered jobs only: while a job with this key still waits, a new one with the same key is
   * dropped (the worker reads the newest state when it runs); if the earlier one is already
   * running, the new one is queued so the newest state still goes out.
   */
  readonly coalesce?: boolean;
  /** JSON-serialisable payload (the canonical object); validated by the handler. */
  readonly payload: unknown;
}

export interface DeliveryJob {
  readonly kind: JobKind;
  readonly network: NetworkId;
  readonly key: string;
  readonly conversation: string | undefined;
  readonly payload: unknown;
  /** 1 for the first try. */
  readonly attempt: number;
  /**
   * Ordered jobs: the handler may return a {@link PendingConfirm} (written on an ordered
   * connection, not yet confirmed) and the conversation's turn passes on at once; `after` names
   * the channel its unconfirmed predecessors were written on (see HandOn, src/adapter/contract.ts).
   */
  readonly handOn?: HandOn;
}

export interface DeliveryHandler {
  /**
   * Perform the job. Throw a DeliveryError to classify a failure; anything else counts as transient.
   * Resolving with a PendingConfirm: the job is done only when `confirmed` resolves (a rejection is
   * classified like a throw); an ordered job's successors may run meanwhile (order.ts, "hand-on").
   */
  deliver(job: DeliveryJob): Promise<void | PendingConfirm>;
  /** Called once when a job has failed for good (permanent, or retries spent). Must not throw. */
  onFinalFailure(job: DeliveryJob, error: DeliveryError): Promise<void>;
}

export interface FailedJobInfo {
  readonly id: string;
  readonly kind: JobKind;
  readonly network: NetworkId;
  readonly key: string;
  readonly attempts: number;
  readonly failedReason: string;
  readonly failedAt: number | undefined;
}

export interface DeliveryService {
  /** Store jobs durably (one round of addBulk where possible). Resolves only when Redis has them; rejects with ParleyError PARLEY_UNAVAILABLE quickly when Redis is down. */
  enqueue(specs: readonly DeliveryJobSpec[]): Promise<void>;
  /**
   * Start processing with `handler` in this process. `active(network)` says whether this process
   * may take that network's jobs now (default: all); see {@link setLocalActive}.
   */
  startWorkers(handler: DeliveryHandler, active?: (network: NetworkId) => boolean): Promise<void>;
  /**
   * Let this process take a network's jobs, or stop taking them (jobs stay queued for other
   * processes). The gateway follows its adapter's readiness: a process without the network's link
   * (e.g. the standby of the one XMPP component link) takes none, and spends no attempts.
   */
  setLocalActive(network: NetworkId, active: boolean): Promise<void>;
  /** Kill switch for a network: its queues stop handing out jobs (jobs are kept), and resume later. */
  pause(network: NetworkId): Promise<void>;
  resume(network: NetworkId): Promise<void>;
  /**
   * `network`'s peer answers again after being unreachable: the jobs that failed against it and sit
   * out a backoff delay are retried now (retry-now.ts). Resolves with how many were moved.
   */
  retryNow(network: NetworkId): Promise<number>;
  /** Jobs waiting, delayed, active and failed per (kind, network) queue (`message-xmpp`, its partitions summed), for metrics and readiness. */
  counts(): Promise<Record<string, Record<string, number>>>;
  /** Dead-letter handling: failed jobs stay until an admin retries or drops them. */
  listFailed(limit?: number): Promise<readonly FailedJobInfo[]>;
  retryFailed(id: string): Promise<boolean>;
  dropFailed(id: string): Promise<boolean>;
  /**
   * First step of a graceful shutdown: stop taking jobs and finish the running ones, while
   * `enqueue` still stores (links still up may hand over what they already read).
   */
  stopWorkers(): Promise<void>;
  /** Graceful shutdown: stop the workers if `stopWorkers` did not, then close the connections; `enqueue` refuses from here on. */
  close(): Promise<void>;
}
