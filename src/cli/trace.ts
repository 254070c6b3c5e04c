/**
 * `parley trace <canonical id | native id | address> [--last N] [--json] [--config FILE]`
 * (issue 17): what happened to a message, hop by hop, read straight from Redis.
 */
import { parseArgs } from "node:util";
import type { GatewayConfig } from "../config/schema.js";
import { createProducerClient, keyspace, waitForReady } from "../store/index.js";
import { TraceReader, formatLookup, traceKeys } from "../trace/index.js";
import type { CommandOutput } from "./config-check.js";
import { errorMessage } from "../errors/message.js";

export const TRACE_USAGE = "usage: parley trace ID|NATIVE-ID|ADDRESS [--last N] [--json] [--config FILE]";

export async function traceCommand(args: readonly string[], loadConfig: (path: string | undefined) => Promise<{ config: GatewayConfig } | CommandOutput>): Promise<CommandOutput> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: { config: { type: "string" }, last: { type: "string", default: "10" }, json: { type: "boolean", default: false } }, allowPositionals: true });
  } catch (e) {
    return { exitCode: 2, lines: [`parley: ${errorMessage(e)}`, TRACE_USAGE] };
  }
  const last = Number(parsed.values.last);
  if (parsed.positionals.length !== 1 || !Number.isInteger(last) || last < 1) return { exitCode: 2, lines: [TRACE_USAGE] };
  const loaded = await loadConfig(parsed.values.config);
  if ("exitCode" in loaded) return loaded;
  const { config } = loaded;
  const redis = createProducerClient({ url: config.redis.url, cluster: config.redis.cluster, connectionName: "parley-cli" });
  redis.on("error", () => undefined);
  try {
    // The producer client queues nothing while it connects: a read before "ready" would fail.
    await waitForReady(redis);
    const reader = new TraceReader(redis, traceKeys(keyspace(config.redis.keyPrefix.replace(/:+$/, ""))), config.trace.retentionSeconds);
    const found = await reader.lookup(parsed.positionals[0]!, last);
    const lines = parsed.values.json ? JSON.stringify(found, null, 2).split("\n") : formatLookup(found);
    return { exitCode: found.matched === "none" ? 1 : 0, lines };
  } catch (e) {
    return { exitCode: 1, lines: [`parley trace: ${errorMessage(e)}`] };
  } finally {
    redis.disconnect();
  }
}
