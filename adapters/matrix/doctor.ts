/**
 * `parley doctor`'s Matrix checks: the homeserver knows the as_token as the bridge bot, the
 * registration file matches the config, and the homeserver reaches Parley (spec v1.7 "Pinging").
 */
import type { AdapterDoctorContext, Finding } from "../../src/adapter/declarations.js";
import { matrixSettings } from "./address.js";
import type { MatrixConfig } from "./config.js";
import { checkRegistrationFile } from "./registration.js";
import { errorMessage } from "../../src/errors/message.js";
import { redactUrlSecrets } from "../../src/log/redact-url.js";

export async function matrixDoctor(ctx: AdapterDoctorContext, c: MatrixConfig): Promise<Finding[]> {
  const out: Finding[] = [];
  const base = c.homeserverUrl.replace(/\/+$/, "");
  const shown = redactUrlSecrets(base);
  const bot = `@${matrixSettings(ctx.mappings).botLocalpart}:${matrixSettings(ctx.mappings).serverName}`;
  try {
    const res = await fetch(`${base}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${c.asToken}` }, signal: AbortSignal.timeout(ctx.timeoutMs) });
    const body = (await res.json().catch(() => ({}))) as { user_id?: string; errcode?: string };
    if (res.ok && body.user_id === bot) out.push({ check: "matrix as_token", status: "ok", detail: `the homeserver knows the as_token as ${bot}` });
    else if (res.ok) out.push({ check: "matrix as_token", status: "fail", detail: `the as_token belongs to ${body.user_id ?? "?"}, not the bridge bot ${bot}`, fix: "networks.matrix.botLocalpart must be the registration's sender_localpart" });
    else out.push({ check: "matrix as_token", status: "fail", detail: `the homeserver refuses the as_token (${res.status} ${body.errcode ?? ""})`, fix: "load the registration (parley matrix registration --out FILE) in the homeserver (Synapse: app_service_config_files) and restart it; its as_token must equal adapters.matrix.asToken" });
  } catch (e) {
    out.push({ check: "matrix homeserver", status: "fail", detail: `${shown} does not answer (${errorMessage(e)})`, fix: "start the homeserver or fix adapters.matrix.homeserverUrl" });
    return out;
  }
  if (c.registrationFile === undefined) {
    out.push({ check: "matrix hs_token", status: "note", detail: "adapters.matrix.registrationFile is not set: cannot compare the tokens with the registration the homeserver loaded" });
  } else {
    try {
      await checkRegistrationFile(c.registrationFile, c);
      out.push({ check: "matrix registration", status: "ok", detail: `${c.registrationFile} has the config's id, as_token and hs_token` });
    } catch (e) {
      out.push({ check: "matrix registration", status: "fail", detail: errorMessage(e), fix: "the homeserver sends the registration's hs_token: copy its tokens into adapters.matrix (asToken/hsToken or their _FILE variables), or rewrite the file with parley matrix registration --out FILE and restart the homeserver" });
    }
  }
  // Matrix spec v1.7 "Pinging": the homeserver calls Parley's /_matrix/app/v1/ping with its hs_token.
  try {
    const res = await fetch(`${base}/_matrix/client/v1/appservice/${encodeURIComponent(c.appserviceId)}/ping`, {
      method: "POST", headers: { authorization: `Bearer ${c.asToken}`, "content-type": "application/json" }, body: "{}", signal: AbortSignal.timeout(ctx.timeoutMs * 2),
    });
    const body = (await res.json().catch(() => ({}))) as { errcode?: string; status?: number; error?: string };
    if (res.ok) out.push({ check: "matrix homeserver → parley", status: "ok", detail: "the homeserver reaches Parley's application-service listener and Parley accepts its hs_token" });
    else if (body.errcode === "M_BAD_STATUS" && (body.status === 401 || body.status === 403)) out.push({ check: "matrix hs_token", status: "fail", detail: `Parley refuses the homeserver's hs_token (${body.status})`, fix: "adapters.matrix.hsToken must equal the hs_token of the registration the homeserver loaded" });
    else if (body.errcode === "M_CONNECTION_FAILED" || body.errcode === "M_CONNECTION_TIMEOUT") out.push({ check: "matrix homeserver → parley", status: "fail", detail: `the homeserver cannot reach Parley's listener (${body.errcode})`, fix: `the registration's url must reach adapters.matrix.listen (${c.listen.host}:${c.listen.port}) from the homeserver` });
    else out.push({ check: "matrix homeserver → parley", status: "note", detail: `the homeserver's ping answered ${res.status} ${body.errcode ?? ""} ${body.error ?? ""}`.trim() });
  } catch (e) {
    out.push({ check: "matrix homeserver → parley", status: "note", detail: `ping not answered (${errorMessage(e)})` });
  }
  return out;
}
