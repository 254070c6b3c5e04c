/**
 * `parley dlq …`, `parley presence show …`, `parley subscriptions list …`: admin reads and
 * actions straight on Redis, for an admin on the gateway's host (the admin API offers the same).
 */
import { parseArgs } from "node:util";
import type { AdapterFactory } from "../adapter/contract.js";
import type { CommandOutput } from "./config-check.js";
import type { LoadAll } from "./doctor.js";
import { BullDeliveryService } from "../delivery/index.js";
import { PresenceAdmin, PresenceService, formatPresenceShow, formatSubscriptionListing, type PresenceShow } from "../presence/index.js";
import { serializePidf } from "../model/pidf.js";
import { silentLogger } from "../log/logger.js";
import { createProducerConnection } from "../store/index.js";
import { errorMessage } from "../errors/message.js";


interface AdminDeps {
  readonly factories: readonly AdapterFactory<unknown>[];
  readonly loadAll: LoadAll;
}

const USAGE: Record<string, string> = {
  dlq: "usage: parley dlq list|retry ID|drop ID [--config FILE]",
  presence: "usage: parley presence show ADDRESS [--pidf] [--config FILE]",
  subscriptions: "usage: parley subscriptions list ADDRESS [--config FILE]",
};

/** `parley presence show`: the admin's summary, or with `--pidf` the RFC 3863 document. */
function presenceLines(show: PresenceShow, pidf: boolean): CommandOutput {
  if (!pidf) return { exitCode: 0, lines: formatPresenceShow(show) };
  if (show.presence === null) return { exitCode: 1, lines: [`no presence known for ${show.presentity.network}/${show.presentity.address}`] };
  return { exitCode: 0, lines: serializePidf(show.presence).trimEnd().split("\n") };
}

const json = (v: unknown): string[] => JSON.stringify(v, null, 2).split("\n");

export async function adminCommand(command: "dlq" | "presence" | "subscriptions", args: readonly string[], deps: AdminDeps): Promise<CommandOutput> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: { config: { type: "string" }, limit: { type: "string" }, pidf: { type: "boolean" } }, allowPositionals: true });
  } catch (e) {
    return { exitCode: 2, lines: [`parley: ${errorMessage(e)}`, USAGE[command]!] };
  }
  const [action, target] = parsed.positionals;
  const valid = command === "dlq" ? (action === "list" || ((action === "retry" || action === "drop") && target)) : (action === (command === "presence" ? "show" : "list") && target);
  if (!valid) return { exitCode: 2, lines: [USAGE[command]!] };
  const loaded = await deps.loadAll(parsed.values.config);
  if ("exitCode" in loaded) return loaded;
  const { config, mappings } = loaded;
  const prefix = config.redis.keyPrefix.replace(/:+$/, "");
  const redis = createProducerConnection({ url: config.redis.url, connectionName: "parley-cli" });
  redis.on("error", () => undefined);
  const delivery = await BullDeliveryService.create({ networks: deps.factories.map((f) => f.id), prefix, redisUrl: config.redis.url, producer: redis });
  try {
    if (command === "dlq") {
      if (action === "list") return { exitCode: 0, lines: json(await delivery.listFailed(Number(parsed.values.limit ?? 100))) };
      const done = action === "retry" ? await delivery.retryFailed(target!) : await delivery.dropFailed(target!);
      return done ? { exitCode: 0, lines: [`${action === "retry" ? "retried" : "dropped"} ${target!}`] } : { exitCode: 1, lines: [`no failed job ${target!}`] };
    }
    const presence = new PresenceService({
      redis, prefix: `${prefix}:`, mappings: () => mappings, delivery,
      adapters: () => undefined, hasPresence: (n) => deps.factories.find((f) => f.id === n)?.capabilities.presence ?? false,
      log: silentLogger(),
    });
    const admin = new PresenceAdmin(presence);
    if (command === "subscriptions") return { exitCode: 0, lines: formatSubscriptionListing(await admin.listSubscriptions(target!)) };
    return presenceLines(await admin.showPresence(target!), parsed.values.pidf === true);
  } finally {
    await delivery.close();
    redis.disconnect();
  }
}
