/**
 * Admin API for the domain mappings (issue 17): see the version in force, validate or apply an
 * edited text, reload the file, roll back. An invalid text changes nothing; the answer lists
 * every problem with file and line (422).
 */
import type { AdminRoute } from "./server.js";
import type { ApplyResult, LiveMappings } from "../mappings/live.js";

function textOf(body: unknown): string | undefined {
  const text = (body as { text?: unknown } | undefined)?.text;
  return typeof text === "string" ? text : undefined;
}

const answer = (r: ApplyResult) => ({ status: r.ok ? 200 : 422, body: r });
const noText = { status: 400, body: { errcode: "PARLEY_INVALID_EVENT", error: "the body must be JSON {\"text\": \"<mappings YAML>\"}" } };

export function mappingsRoutes(live: LiveMappings): AdminRoute[] {
  return [
    { method: "GET", path: "/mappings", handle: async () => ({ status: 200, body: await live.describe() }) },
    { method: "POST", path: "/mappings/validate", handle: async (_p, body) => { const t = textOf(body); return t === undefined ? noText : answer(live.validate(t)); } },
    { method: "POST", path: "/mappings/apply", handle: async (_p, body) => { const t = textOf(body); return t === undefined ? noText : answer(await live.apply(t, "api")); } },
    { method: "POST", path: "/mappings/reload", handle: async () => answer(await live.reloadFile("api")) },
    { method: "POST", path: "/mappings/rollback/:version", handle: async (p) => answer(await live.rollback(Number(p.version))) },
  ];
}
