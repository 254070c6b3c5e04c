/**
 * The puppets Parley keeps online on Matrix (issue 14), in Redis: one map (a hash, one cluster
 * slot) from puppet user id to the presence it shows. Every process of the deployment reads and
 * writes the same set, so a restarted process, or another one, keeps refreshing puppets another
 * process put online. A change is written here before it is sent to the homeserver, so a refresh
 * that read the old state re-reads after its own send and corrects it (see PuppetPresence).
 */
import { randomBytes } from "node:crypto";
import { mapEntries, type AdapterStateStore } from "../../src/adapter/state.js";

export type MatrixPresence = "online" | "unavailable" | "offline";
export interface PuppetState { readonly presence: MatrixPresence; readonly status_msg?: string }

const MAP = "live-puppets";
const LEASE = "presence-refresh";

function parse(raw: string | undefined): PuppetState | undefined {
  if (raw === undefined) return undefined;
  try {
    const v = JSON.parse(raw) as { presence?: unknown; status_msg?: unknown };
    if (v.presence !== "online" && v.presence !== "unavailable") return undefined;
    return typeof v.status_msg === "string" ? { presence: v.presence, status_msg: v.status_msg } : { presence: v.presence };
  } catch {
    return undefined;
  }
}

export class LivePuppets {
  /** This process's name as the holder of the refresh lease. */
  readonly holder = `p${process.pid}-${randomBytes(4).toString("hex")}`;

  constructor(private readonly state: AdapterStateStore) {}

  async get(puppet: string): Promise<PuppetState | undefined> {
    return parse(await this.state.mapGet(MAP, puppet));
  }

  /** Record what `puppet` shows; offline leaves the set. */
  async set(puppet: string, s: PuppetState): Promise<void> {
    if (s.presence === "offline") await this.state.mapDelete(MAP, puppet);
    else await this.state.mapSet(MAP, puppet, JSON.stringify(s));
  }

  /** Every live puppet, a page at a time (a puppet may come twice while the set changes). */
  async *all(page = 500): AsyncGenerator<readonly [string, PuppetState]> {
    for await (const [puppet, raw] of mapEntries(this.state, MAP, page)) {
      const s = parse(raw);
      if (s) yield [puppet, s];
    }
  }

  /** Whether this process refreshes now: one process of the deployment does, by lease. */
  refresher(ttlMs: number): Promise<boolean> {
    return this.state.lease(LEASE, this.holder, ttlMs);
  }

  release(): Promise<void> {
    return this.state.releaseLease(LEASE, this.holder);
  }
}

export const sameState = (a: PuppetState | undefined, b: PuppetState | undefined): boolean =>
  (a?.presence ?? "offline") === (b?.presence ?? "offline") && (a?.status_msg ?? "") === (b?.status_msg ?? "");
