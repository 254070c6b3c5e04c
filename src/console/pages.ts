/** The console's read pages (issue 17): overview, dead letters, presence and subscriptions. */
import type { FailedJobInfo } from "../delivery/types.js";
import type { PresenceShow, SubscriptionListing } from "../presence/admin.js";
import type { Subscription } from "../model/subscription.js";
import type { DomainMappings } from "../mappings/types.js";
import type { TraceLookup } from "../trace/reader.js";
import { badge, csrfField, html, notice, sparkline, table, type Html, type PageContext } from "./html.js";
import type { QueueSeries } from "./samples.js";
import type { LinkHealth } from "./sources.js";
import { lookupSection } from "./timeline.js";

export interface OverviewData {
  readonly links: readonly LinkHealth[];
  readonly counts: Record<string, Record<string, number>>;
  readonly series: (queue: string) => QueueSeries;
  readonly mappings: DomainMappings;
  readonly version: number;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

export function overviewPage(d: OverviewData): Html {
  const linkOf = new Map(d.links.map((l) => [l.name.replace(/^adapter\./, ""), l]));
  const links = table(["link", "state", "detail"], d.links.map((l) => [l.name, badge(l.ready, l.ready ? "healthy" : "unhealthy"), l.detail]));
  const queues = table(
    ["queue", "waiting", "delayed", "active", "failed", "delivered (last hour)", "failed (last hour)", "depth (last hour)"],
    Object.entries(d.counts).sort(([a], [b]) => a.localeCompare(b)).map(([q, c]) => {
      const s = d.series(q);
      return [q, c.waiting ?? 0, c.delayed ?? 0, c.active ?? 0, c.failed ?? 0,
        html`${sum(s.delivered)} ${sparkline(s.delivered, `${q}: delivered per minute`)}`,
        html`${sum(s.failed)} ${sparkline(s.failed, `${q}: failed per minute`, "fail")}`,
        sparkline(s.depth, `${q}: queue depth per minute`)];
    }),
    "no delivery queues yet",
  );
  const domains = table(["domain", "home network", "link", "jobs waiting for its network"], [...d.mappings.domains.values()].map((m) => {
    const link = linkOf.get(m.home);
    // Queues are named <kind>-<network> (message-xmpp, presence-xmpp, …): the home network's.
    const depth = sum(Object.entries(d.counts).filter(([q]) => q.endsWith(`-${m.home}`)).map(([, c]) => (c.waiting ?? 0) + (c.delayed ?? 0) + (c.active ?? 0)));
    return [m.domain, m.home, link ? badge(link.ready, link.ready ? "healthy" : "unhealthy") : html`<span class="muted">not running here</span>`, depth];
  }), "no domains listed");
  return html`<section id="links"><h2>Links</h2>${links}</section>
<section id="queues"><h2>Delivery queues</h2><p class="muted">Charts: one bar per minute, this process's counters since it started (at most an hour).</p>${queues}</section>
<section id="domains"><h2>Mapped domains</h2><p class="muted">Mappings version ${d.version || "(from the file)"}.</p>${domains}</section>`;
}

export function tracePage(query: string, last: number, result: TraceLookup | undefined): Html {
  return html`<form method="get" action="/console/trace" class="search">
<label>Message id, native id or address <input name="q" value="${query}" size="48" autofocus></label>
<label>last <input name="last" type="number" min="1" max="100" value="${last}"></label>
<button type="submit">Find</button></form>
${result ? lookupSection(result) : html`<p class="muted">Hops are kept for the trace retention (docs/operations.md “Tracing a message”).</p>`}`;
}

const messageIdOf = (key: string): string | undefined => /^[mrs]\.([0-9a-f-]{36})\./.exec(key)?.[1];

function actions(ctx: PageContext, id: string): Html {
  return html`<form method="post" action="/console/dlq/retry" class="inline">${csrfField(ctx)}<input type="hidden" name="id" value="${id}"><button type="submit">Retry</button></form>
<form method="post" action="/console/dlq/drop" class="inline">${csrfField(ctx)}<input type="hidden" name="id" value="${id}"><button type="submit" class="danger">Drop</button></form>`;
}

export function dlqPage(ctx: PageContext, query: URLSearchParams, failed: readonly FailedJobInfo[]): Html {
  const rows = failed.map((j) => {
    const mid = messageIdOf(j.key);
    return [html`<a href="/console/dlq/item?id=${encodeURIComponent(j.id)}">${j.id}</a>`, j.kind, j.network, j.attempts, j.failedReason,
      j.failedAt ? new Date(j.failedAt).toISOString() : "", mid ? html`<a href="/console/trace?q=${mid}">${mid}</a>` : "", actions(ctx, j.id)];
  });
  return html`${notice(query)}<p>Deliveries that failed for good (permanent failure or retries spent), kept until retried or dropped. A retry runs at once, out of its conversation's order.</p>
${table(["job", "kind", "network", "attempts", "reason", "failed at", "message", ""], rows, "no dead letters")}`;
}

export function dlqItemPage(ctx: PageContext, job: FailedJobInfo, trace: Html | undefined): Html {
  return html`<dl class="facts"><dt>job</dt><dd>${job.id}</dd><dt>kind</dt><dd>${job.kind}</dd><dt>network</dt><dd>${job.network}</dd>
<dt>key</dt><dd><code>${job.key}</code></dd><dt>attempts</dt><dd>${job.attempts}</dd><dt>reason</dt><dd>${job.failedReason}</dd>
<dt>failed at</dt><dd>${job.failedAt ? new Date(job.failedAt).toISOString() : ""}</dd></dl>
<p>${actions(ctx, job.id)}</p>${trace ?? html`<p class="muted">No trace for this job.</p>`}`;
}

function subscriptions(subs: readonly Subscription[], side: "watcher" | "presentity"): Html {
  return table([side, "state", "decided by", "since"], subs.map((s) => {
    const who = side === "watcher" ? s.watcher : s.presentity;
    return [`${who.network}/${who.address}`, s.state, s.decidedBy ?? "", s.at ?? ""];
  }), side === "watcher" ? "nobody watches this address" : "this address watches nobody");
}

export function presencePage(address: string, found: { show: PresenceShow; subs: SubscriptionListing } | { error: string } | undefined): Html {
  const form = html`<form method="get" action="/console/presence" class="search">
<label>Address (<code>user@domain</code> of a listed domain, or <code>network/user@domain</code>) <input name="address" value="${address}" size="40"></label>
<button type="submit">Show</button></form>`;
  if (!found) return form;
  if ("error" in found) return html`${form}<p class="bad" role="alert">${found.error}</p>`;
  const { show, subs } = found;
  const tuples = show.presence?.tuples ?? [];
  return html`${form}<section id="presence"><h2>Presence of ${show.presentity.network}/${show.presentity.address}</h2>
<dl class="facts"><dt>state</dt><dd>${badge(show.open, show.open ? "open" : "closed")}</dd><dt>last seen</dt><dd>${show.lastSeen ?? "never"}</dd>
<dt>version</dt><dd>${show.originVersion}</dd></dl>
${table(["tuple", "basic", "show", "note"], tuples.map((t) => [t.id, t.basic, t.show ?? "", Object.values(t.note ?? {}).join(" / ")]), "no presence known")}
</section><section id="watchers"><h2>Watchers</h2>${subscriptions(subs.watchers, "watcher")}</section>
<section id="watching"><h2>Watching</h2>${subscriptions(subs.watching, "presentity")}</section>`;
}
