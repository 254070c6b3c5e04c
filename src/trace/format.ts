/** Text rendering of traces for `parley trace` (times in UTC, durations between hops). */
import type { Hop, MessageTrace } from "./hops.js";
import type { TraceLookup } from "./reader.js";

/** UTC to a tenth of a millisecond: `2026-12-06 17:22:02.9653`. */
const time = (ms: number): string => {
  const tenths = Math.round(ms * 10);
  const frac = String(tenths % 10_000).padStart(4, "0");
  return `${new Date(Math.floor(tenths / 10)).toISOString().slice(0, 19).replace("T", " ")}.${frac}`;
};

export const formatDuration = (ms: number): string =>
  ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;

/** What a hop says besides its kind and time, as `key=value` words. */
export function hopDetail(h: Hop): string {
  const words: string[] = [];
  const add = (k: string, v: string | number | undefined) => { if (v !== undefined && v !== "") words.push(`${k}=${v}`); };
  add("network", h.network);
  add("from", h.from);
  add("to", h.to);
  if (h.nativeIds && h.nativeIds.length > 0) add("native", h.nativeIds.join(","));
  add("auth", h.auth);
  add("via", h.via);
  add("policy", h.policy);
  add("queue", h.queue);
  add("attempt", h.attempt);
  add("outcome", h.outcome);
  add("class", h.failureClass);
  add("reason", h.reason);
  add("code", h.code);
  add("state", h.state);
  if (h.durMs !== undefined) add("took", formatDuration(h.durMs));
  add("process", h.process);
  if (h.detail) words.push(`"${h.detail}"`);
  return words.join(" ");
}

export function formatTrace(t: MessageTrace): string[] {
  const lines = [`message ${t.id}${t.truncated ? " (older hops dropped: the trace reached its bound)" : ""}`];
  const first = t.hops[0]?.at ?? 0;
  let prev = first;
  for (const h of t.hops) {
    lines.push(`  ${time(h.at)}  +${formatDuration(Math.max(0, h.at - prev)).padEnd(9)} ${h.hop.padEnd(10)} ${hopDetail(h)}`);
    prev = Math.max(prev, h.at);
  }
  const last = t.hops.at(-1);
  if (last) lines.push(`  total ${formatDuration(Math.max(0, last.at - first))}`);
  return lines;
}

export function formatLookup(l: TraceLookup): string[] {
  if (l.matched === "none") return [`no trace for "${l.query}" (not a known message id, native id or address, or older than the retention)`];
  const lines: string[] = [];
  if (l.matched === "address") lines.push(`last ${l.traces.length} message(s) from or to ${l.query}, newest first`);
  for (const t of l.traces) lines.push(...formatTrace(t), "");
  return lines.slice(0, lines.at(-1) === "" ? -1 : undefined);
}
