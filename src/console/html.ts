/**
 * HTML building blocks for the console (issue 17): every value goes through {@link esc}; pages
 * are plain server-rendered HTML with forms, no script at all, so the Content-Security-Policy can
 * forbid scripts and inline styles outright. Charts are inline SVG drawn with attributes.
 */

/** An HTML fragment already escaped (only this module and its callers' literals make one). */
export class Html {
  constructor(readonly text: string) {}
  toString(): string { return this.text; }
}

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function esc(value: string | number | boolean | null | undefined): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

type Part = Html | string | number | undefined | null | false | readonly Part[];

function join(part: Part): string {
  if (part === undefined || part === null || part === false) return "";
  if (part instanceof Html) return part.text;
  if (typeof part === "string" || typeof part === "number") return esc(part);
  return part.map(join).join("");
}

/** Template tag: literals are trusted, interpolations are escaped unless already {@link Html}. */
export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < parts.length; i++) out += join(parts[i]) + strings[i + 1]!;
  return new Html(out);
}

export const NAV = [
  ["/console/", "Overview"],
  ["/console/trace", "Trace"],
  ["/console/dlq", "Dead letters"],
  ["/console/presence", "Presence"],
  ["/console/mappings", "Mappings"],
] as const;

export interface PageContext {
  /** The session's CSRF token, put in every form that changes something. */
  readonly csrf: string;
  readonly path: string;
}

export function csrfField(ctx: PageContext): Html {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;
}

export function layout(title: string, ctx: PageContext | undefined, body: Html): string {
  const nav = ctx
    ? html`<nav>${NAV.map(([href, label]) => html`<a href="${href}"${ctx.path === href ? html` aria-current="page"` : ""}>${label}</a>`)}
<form method="post" action="/console/logout" class="logout">${csrfField(ctx)}<button type="submit">Log out</button></form></nav>`
    : "";
  return `<!doctype html>
${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Parley console</title><link rel="stylesheet" href="/console/style.css"></head>
<body><header><strong>Parley</strong> console</header>${nav}<main><h1>${title}</h1>
${body}</main></body></html>`.text}
`;
}

/** A message after an action (`?done=` or `?error=` on the redirect). */
export function notice(query: URLSearchParams): Html {
  const done = query.get("done");
  const error = query.get("error");
  return html`${done ? html`<p class="ok" role="status">${done}</p>` : ""}${error ? html`<p class="bad" role="alert">${error}</p>` : ""}`;
}

export function table(head: readonly string[], rows: readonly (readonly Part[])[], empty = "nothing to show"): Html {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<table><thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table>`;
}

export function badge(ok: boolean, text: string): Html {
  return html`<span class="${ok ? "badge ok" : "badge bad"}">${text}</span>`;
}

/** A small bar chart of `values` (oldest first), with its title for screen readers. */
export function sparkline(values: readonly number[], label: string, kind: "rate" | "fail" = "rate"): Html {
  const w = 180;
  const h = 32;
  const max = Math.max(1, ...values);
  const bw = values.length > 0 ? w / values.length : w;
  const bars = values.map((v, i) => {
    const bh = v === 0 ? 0 : Math.max(1, Math.round((v / max) * (h - 2)));
    return html`<rect x="${(i * bw).toFixed(1)}" y="${h - bh}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${bh}"></rect>`;
  });
  return html`<svg class="spark ${kind}" role="img" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><title>${label}</title>${bars}</svg>`;
}
