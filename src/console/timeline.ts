/**
 * A message's trace drawn for the console (issue 17): one row per hop on a common time axis (an
 * attempt is a bar as long as it took), then the hops as a table with the same words
 * `parley trace` prints.
 */
import type { Hop, MessageTrace } from "../trace/hops.js";
import { formatDuration, hopDetail } from "../trace/format.js";
import type { TraceLookup } from "../trace/reader.js";
import { html, table, type Html } from "./html.js";

const WIDTH = 720;
const LABEL = 110;
const ROW = 20;

const FAILED: ReadonlySet<string> = new Set(["failed", "refused", "not-stored"]);

function hopClass(h: Hop): string {
  if (FAILED.has(h.hop) || h.outcome === "failed") return "hop bad";
  if (h.hop === "delivered" || h.hop === "relayed") return "hop ok";
  return "hop";
}

export function timelineSvg(t: MessageTrace): Html {
  const first = t.hops[0]?.at ?? 0;
  const last = Math.max(first, ...t.hops.map((h) => h.at + (h.durMs ?? 0)));
  const span = Math.max(1, last - first);
  const plot = WIDTH - LABEL - 10;
  const x = (ms: number) => LABEL + ((ms - first) / span) * plot;
  const height = t.hops.length * ROW + 24;
  const rows = t.hops.map((h, i) => {
    const y = i * ROW + 4;
    const w = Math.max(3, ((h.durMs ?? 0) / span) * plot);
    return html`<g class="${hopClass(h)}"><text x="0" y="${y + 13}">${h.hop}${h.attempt !== undefined ? ` #${h.attempt}` : ""}</text>
<rect x="${x(h.at).toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 8}"><title>${h.hop} +${formatDuration(h.at - first)} ${hopDetail(h)}</title></rect></g>`;
  });
  const axisY = t.hops.length * ROW + 8;
  return html`<svg class="timeline" role="img" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" aria-label="timeline of message ${t.id}">
${rows}<line x1="${LABEL}" y1="${axisY}" x2="${WIDTH - 10}" y2="${axisY}"></line>
<text x="${LABEL}" y="${axisY + 14}">0</text><text x="${WIDTH - 10}" y="${axisY + 14}" text-anchor="end">${formatDuration(span)}</text></svg>`;
}

function time(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

export function traceSection(t: MessageTrace): Html {
  const first = t.hops[0]?.at ?? 0;
  let prev = first;
  const rows = t.hops.map((h) => {
    const delta = Math.max(0, h.at - prev);
    prev = Math.max(prev, h.at);
    return [time(h.at), `+${formatDuration(delta)}`, html`<span class="${hopClass(h)}">${h.hop}</span>`, hopDetail(h)];
  });
  const last = t.hops.at(-1);
  return html`<section class="trace" data-message-id="${t.id}"><h2>Message <code>${t.id}</code></h2>
${t.truncated ? html`<p class="muted">Older hops were dropped: the trace reached its bound.</p>` : ""}
${timelineSvg(t)}
${table(["time (UTC)", "since previous", "hop", "detail"], rows)}
${last ? html`<p>total ${formatDuration(Math.max(0, last.at - first))}</p>` : ""}</section>`;
}

export function lookupSection(l: TraceLookup): Html {
  if (l.matched === "none") {
    return html`<p class="muted" role="status">No trace for “${l.query}”: not a known message id, native id or address, or older than the retention.</p>`;
  }
  const what = l.matched === "address" ? `the last ${l.traces.length} message(s) from or to ${l.query}, newest first`
    : l.matched === "native-id" ? `the message with native id ${l.query}` : `message ${l.query}`;
  return html`<p role="status">Found ${what}.</p>${l.traces.map(traceSection)}`;
}
