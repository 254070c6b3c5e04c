/**
 * The application-service registration (Matrix spec, Application Service API, "Registration"):
 * `parley matrix registration` writes it for the homeserver admin, and start() checks that the
 * tokens in Parley's config are the registration's.
 */
import { randomBytes, timingSafeEqual, createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parse, stringify } from "yaml";
import { z } from "zod";
import { ParleyError } from "../../src/errors/parley-error.js";
import type { DomainMappings } from "../../src/mappings/types.js";
import { matrixSettings } from "./address.js";

export interface RegistrationInput {
  /** The registration's unique id on the homeserver. */
  readonly id: string;
  /** Where the homeserver reaches Parley's application-service listener (null: no events pushed). */
  readonly url: string | null;
  readonly mappings: DomainMappings;
  /** Reuse existing tokens (e.g. to rewrite the file); new random ones otherwise. */
  readonly asToken?: string;
  readonly hsToken?: string;
}

export interface Registration {
  readonly id: string;
  readonly url: string | null;
  readonly as_token: string;
  readonly hs_token: string;
  readonly sender_localpart: string;
  readonly rate_limited: boolean;
  readonly receive_ephemeral: boolean;
  readonly "de.sorunome.msc2409.push_ephemeral": boolean;
  readonly namespaces: {
    readonly users: ReadonlyArray<{ readonly exclusive: boolean; readonly regex: string }>;
    readonly aliases: ReadonlyArray<{ readonly exclusive: boolean; readonly regex: string }>;
    readonly rooms: readonly [];
  };
}

export interface WrittenRegistration {
  readonly yaml: string;
  readonly asToken: string;
  readonly hsToken: string;
  readonly registration: Registration;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The exclusive user namespace: every puppet prefix and the bot, on the puppets' server. */
export function userNamespaces(mappings: DomainMappings): Array<{ exclusive: true; regex: string }> {
  const s = matrixSettings(mappings);
  const server = escapeRegex(s.serverName);
  const prefixes = [s.puppetPrefix, ...s.domainPrefixes.map((p) => p.prefix)];
  return [
    ...prefixes.map((p) => ({ exclusive: true as const, regex: `@${escapeRegex(p)}.*:${server}` })),
    { exclusive: true as const, regex: `@${escapeRegex(s.botLocalpart)}:${server}` },
  ];
}

/**
 * The exclusive alias namespace of open rooms (docs/rooms.md "Open rooms"): `#<puppetPrefix>…` on
 * the puppets' server, so the homeserver asks Parley about every such alias (rooms/open-alias.ts).
 */
export function aliasNamespaces(mappings: DomainMappings): Array<{ exclusive: true; regex: string }> {
  const s = matrixSettings(mappings);
  return [{ exclusive: true, regex: `#${escapeRegex(s.puppetPrefix)}.*:${escapeRegex(s.serverName)}` }];
}

/** Build the registration YAML and its tokens (issue 4 step 1). */
export function writeRegistration(input: RegistrationInput): WrittenRegistration {
  const s = matrixSettings(input.mappings);
  const asToken = input.asToken ?? newToken();
  const hsToken = input.hsToken ?? newToken();
  if (asToken === hsToken) throw new ParleyError("PARLEY_CONFIG_INVALID", "as_token and hs_token must differ");
  const registration: Registration = {
    id: input.id,
    url: input.url,
    as_token: asToken,
    hs_token: hsToken,
    sender_localpart: s.botLocalpart,
    rate_limited: false,
    // Matrix spec v1.13 "Pushing events": ephemeral events (presence, receipts) in transactions.
    receive_ephemeral: true,
    "de.sorunome.msc2409.push_ephemeral": true,
    namespaces: { users: userNamespaces(input.mappings), aliases: aliasNamespaces(input.mappings), rooms: [] },
  };
  return { yaml: stringify(registration), asToken, hsToken, registration };
}

const RegistrationFileSchema = z.object({ id: z.string(), as_token: z.string(), hs_token: z.string() }).loose();

function sameSecret(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Refuse to start when the config's tokens are not the registration file's (issue 4 step 1). */
export async function checkRegistrationFile(file: string, config: { appserviceId: string; asToken: string; hsToken: string }): Promise<void> {
  let parsed: z.infer<typeof RegistrationFileSchema>;
  try {
    parsed = RegistrationFileSchema.parse(parse(await readFile(file, "utf8")));
  } catch (e) {
    throw new ParleyError("PARLEY_CONFIG_INVALID", `adapters.matrix.registrationFile: cannot read ${file}`, { file }, { cause: e });
  }
  const problems: string[] = [];
  if (parsed.id !== config.appserviceId) problems.push("id differs from adapters.matrix.appserviceId");
  if (!sameSecret(parsed.as_token, config.asToken)) problems.push("as_token differs from adapters.matrix.asToken");
  if (!sameSecret(parsed.hs_token, config.hsToken)) problems.push("hs_token differs from adapters.matrix.hsToken");
  if (problems.length > 0) throw new ParleyError("PARLEY_CONFIG_INVALID", `registration ${file}: ${problems.join("; ")}`, { file });
}

export { sameSecret };
