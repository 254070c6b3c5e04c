/** Types shared by the inbound side of the adapter (kept apart so its modules import no cycle). */
import { z } from "zod";
import type { AcceptResult } from "../../src/adapter/contract.js";
import type { CanonicalEvent } from "../../src/model/events.js";

/** A client-server event as the homeserver pushes it (Application Service API "Pushing events"). */
export const MatrixEventSchema = z.object({
  event_id: z.string().min(1).max(255),
  type: z.string().min(1).max(255),
  room_id: z.string().min(1).max(255),
  sender: z.string().min(1).max(255),
  content: z.record(z.string(), z.unknown()),
  state_key: z.string().optional(),
  origin_server_ts: z.number().optional(),
}).loose();
export type MatrixEvent = z.infer<typeof MatrixEventSchema>;

export interface HttpReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface PlanItem {
  readonly event: CanonicalEvent;
  readonly onResult?: (r: AcceptResult) => Promise<void>;
}

export interface Plan {
  readonly items: PlanItem[];
  /** Side effects to run after the transaction is acknowledged, in order. */
  readonly followups: Array<() => Promise<void>>;
}
