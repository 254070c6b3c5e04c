/**
 * The console's mappings page (issue 17): the version in force and its text, an editor that
 * validates (the same file/line problems as `parley config check`) or applies an edited text
 * (every Parley process swaps to it), and rollback to a kept version.
 */
import type { ApplyResult } from "../mappings/live.js";
import { csrfField, html, notice, type Html, type PageContext } from "./html.js";

export interface MappingsView {
  readonly version: number;
  readonly file: string;
  readonly text: string | undefined;
  readonly history: readonly number[];
}

export type MappingsAction = "validate" | "apply";

function resultOf(action: MappingsAction, r: ApplyResult): Html {
  if (!r.ok) {
    return html`<div class="bad" role="alert"><p>${action === "apply" ? "Not applied: " : ""}the text has ${r.problems.length} problem(s); nothing changed.</p>
<ul class="problems">${r.problems.map((p) => html`<li><code>${p}</code></li>`)}</ul></div>`;
  }
  if (action === "validate") return html`<p class="ok" role="status">Valid. Nothing applied yet.</p>`;
  return html`<p class="ok" role="status">${r.unchanged ? `Unchanged: version ${r.version} already holds this text.` : `Applied as version ${r.version}; every Parley process swaps to it.`}</p>`;
}

export function mappingsPage(ctx: PageContext, query: URLSearchParams, v: MappingsView, edited?: { action: MappingsAction; text: string; result: ApplyResult }): Html {
  const text = edited?.text ?? v.text ?? "";
  const rollback = v.history.filter((n) => n !== v.version).map((n) => html`<li>version ${n}
<form method="post" action="/console/mappings/rollback" class="inline">${csrfField(ctx)}<input type="hidden" name="version" value="${n}"><button type="submit">Roll back to ${n}</button></form></li>`);
  return html`${notice(query)}${edited ? resultOf(edited.action, edited.result) : ""}
<p>In force: <strong id="mappings-version">${v.version > 0 ? `version ${v.version}` : "the file as loaded at start"}</strong> (file <code>${v.file}</code>).
Applying stores a new version in Redis; SIGHUP and <code>POST /mappings/reload</code> read the file again (docs/console.md “Mappings”).</p>
<form method="post" action="/console/mappings" class="editor">${csrfField(ctx)}
<label for="mappings-text">Mappings (YAML)</label>
<textarea id="mappings-text" name="text" rows="24" cols="100" spellcheck="false">${text}</textarea>
<p><button type="submit" name="action" value="validate">Validate</button> <button type="submit" name="action" value="apply">Apply</button></p></form>
<section id="history"><h2>Kept versions</h2>${rollback.length > 0 ? html`<ul>${rollback}</ul>` : html`<p class="muted">no older versions kept</p>`}</section>`;
}
