/**
 * The Matrix adapter's schemas: its gateway config section (`adapters.matrix`), its mappings
 * sections (`networks.matrix`, `domains.<d>.appearsOn.matrix`) and the limits it enforces.
 */
import { z } from "zod";
import { secret } from "../../src/config/secret.js";
import { asNetworkId, DomainNameSchema } from "../../src/model/address.js";

export const MATRIX = asNetworkId("matrix");

/** Matrix spec, appendices "User Identifiers": localparts of new ids use only these characters. */
export const LOCALPART_CHARS = /^[a-z0-9._=\-/+]+$/;
/** Matrix spec, appendices "User Identifiers": a user id is at most 255 bytes. */
export const MAX_USER_ID_BYTES = 255;
/** Matrix spec, client-server API "Size limits": an event is at most 65536 bytes (federation format). */
export const MAX_EVENT_BYTES = 65_536;


const prefix = z
  .string()
  .min(1)
  .max(64)
  .regex(LOCALPART_CHARS, "must use only the Matrix localpart characters a-z 0-9 . _ = - / +");

/** `networks.matrix` in the mappings file. */
export const MatrixNetworkSettingsSchema = z.object({
  /** The homeserver whose namespace holds the puppets (its `server_name`). */
  serverName: DomainNameSchema.describe("server_name of the homeserver Parley is an application service of"),
  /** Shared puppet form: `@<puppetPrefix><network>_<escaped address>:<serverName>`. */
  puppetPrefix: prefix.default("_parley_").describe("localpart prefix of puppets for domains without their own prefix"),
  /** The application service's own user, the bridge bot. */
  botLocalpart: prefix.default("parley").describe("localpart of the bridge bot (the registration's sender_localpart)"),
});
export type MatrixNetworkSettings = z.infer<typeof MatrixNetworkSettingsSchema>;

/** `domains.<d>.appearsOn.matrix`: a listed foreign domain's own puppet prefix. */
export const MatrixAppearanceSchema = z.object({
  prefix: prefix.optional().describe("puppets of this domain are @<prefix><escaped local part>:<serverName>"),
});
export type MatrixAppearance = z.infer<typeof MatrixAppearanceSchema>;

/** `adapters.matrix` in the gateway config. Tokens come from files or the environment, never logs. */
export const MatrixConfigSchema = z.object({
  /** Client-server API base URL of the homeserver (TLS unless on loopback: DESIGN §8). */
  homeserverUrl: z.url().describe("homeserver client-server base URL, e.g. https://matrix.example.org; TLS unless it is on loopback"),
  /** The registration's `id`. */
  appserviceId: z.string().min(1).max(255).default("parley").describe("the registration's id (used for the ping)"),
  asToken: secret(z.string().min(16).describe("as_token of the registration (secret)")),
  hsToken: secret(z.string().min(16).describe("hs_token of the registration (secret)")),
  /** When set, start() refuses tokens that differ from this registration file's. */
  registrationFile: z.string().optional().describe("registration file; when set, start refuses tokens or an id that differ from the file's"),
  listen: z.object({
    host: z.string().default("127.0.0.1").describe("address the application-service listener binds"),
    port: z.number().int().min(0).max(65_535).default(9993).describe("port of the application-service listener (the registration's url must reach it)"),
    /** A transaction body larger than this is answered 413 (a declared length before reading). */
    maxBodyBytes: z.number().int().min(65_536).default(16 * 1024 * 1024).describe("a larger transaction is answered 413, at once when Content-Length declares it, before a byte is read"),
    /** Time allowed for a request's headers, and for the whole request (slow bodies answer 408). */
    headersTimeoutMs: z.number().int().min(100).default(5_000).describe("time allowed for a request's headers"),
    requestTimeoutMs: z.number().int().min(100).default(10_000).describe("time allowed for a whole request (408 and the connection closed otherwise: slowloris)"),
    /** Connections one remote address may hold open at once; more are closed at once. */
    maxConnectionsPerSource: z.number().int().min(1).default(64).describe("connections one remote address may hold open at once; more are closed"),
  }).prefault({}).describe("the application-service listener the homeserver pushes transactions to"),
  /** How often puppets' presence is re-sent so the homeserver does not time it out (0: never). */
  presenceRefreshSeconds: z.number().int().min(0).default(20).describe("how often online/unavailable puppets' presence is re-sent (0: never); must be below Synapse's presence.sync_online_timeout (30 s)"),
  /** How long a puppet's name and avatar stand before the person's profile is read again (puppet-profile.ts). */
  profileRefreshSeconds: z.number().int().min(1).default(3600).describe("how long a puppet's display name and avatar stand before the person's own profile is read again, on their next message or presence; an avatar change their network announces in presence (XMPP XEP-0153) is followed at once"),
  /** Events larger than this are refused with a notice (Matrix "Size limits"). */
  maxEventBytes: z.number().int().min(1024).max(MAX_EVENT_BYTES).default(MAX_EVENT_BYTES).describe("a larger event is first sent without its formatting (formatted_body dropped, text kept); only when the text alone is too large is it refused, with a notice naming the limit"),
  /** Timeout of a call to the homeserver. */
  requestTimeoutMs: z.number().int().min(100).default(15_000).describe("timeout of a call to the homeserver"),
  /** How long event ids are remembered for dedupe (≥ 1 day: Synapse may reuse txn ids after a restart). */
  dedupeTtlSeconds: z.number().int().min(86_400).default(2 * 86_400).describe("how long event ids are remembered for dedupe (at least a day: Synapse may reuse transaction ids after a restart)"),
  /** Catch-up after the homeserver was unreachable or Parley was down (catch-up.ts, README "Catch-up"). */
  catchUp: z.object({
    windowSeconds: z.number().int().min(0).default(3600).describe("rooms with events pushed to Parley within this window are read again after an outage (0: no catch-up)"),
    maxRooms: z.number().int().min(1).default(100).describe("at most this many rooms, most recently active first, per catch-up"),
    maxEventsPerRoom: z.number().int().min(1).max(5000).default(500).describe("at most this many of a room's events after the last one pushed are read per catch-up"),
    probeSeconds: z.number().int().min(1).default(10).describe("how often the homeserver is probed (whoami) to notice it answering again; an outage shorter than this may go unnoticed"),
  }).prefault({}).describe("reading recent history for events the homeserver accepted but never pushed (e.g. those in flight when it was stopped)"),
}).describe("the Matrix network: Parley as an application service of the homeserver");
export type MatrixConfig = z.infer<typeof MatrixConfigSchema>;
export type MatrixConfigInput = z.input<typeof MatrixConfigSchema>;
