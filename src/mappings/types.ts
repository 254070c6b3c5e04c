/**
 * The admin's domain mappings as the core and the adapters see them once loaded and validated
 * (DESIGN §1). The YAML format and its loader are in this folder; `docs/mappings.md` documents it.
 *
 * Network-specific sections (`networks.<id>` and `domains.<d>.appearsOn.<id>`) are validated at
 * load time by the schema the owning adapter exports (its `addressing`), and kept here as plain
 * data the core never reads.
 */
import type { NetworkId } from "../model/address.js";
import type { AccessRules } from "../model/access.js";
import type { RoomDirectory } from "./room-directory.js";

/** Where in the admin's file a value came from, for error messages. */
export interface SourceRef {
  readonly file: string;
  readonly line: number;
}

/** Open federation per network and direction (DESIGN §1), with allow and deny lists of peer domains. */
export interface FederationPolicy {
  /** Whether unlisted domains of this network may reach Parley's users. */
  readonly inbound: "allow" | "deny";
  /** Whether Parley's users may reach unlisted domains of this network. */
  readonly outbound: "allow" | "deny";
  /** When non-empty, only these unlisted domains are allowed (both directions). */
  readonly allowDomains: readonly string[];
  readonly denyDomains: readonly string[];
}

export interface DomainPolicy {
  /** Kill switch for this domain: when false, nothing to or from it is accepted (outbound jobs pause). */
  readonly enabled: boolean;
  readonly messaging: boolean;
  readonly presence: boolean;
  /** Whether senders from this domain whose identity is not proved are accepted (marked unverified) or refused. */
  readonly acceptUnauthenticated: boolean;
  /** Peer domains this domain may talk to; empty means all. */
  readonly allowPeers: readonly string[];
  readonly denyPeers: readonly string[];
  /** Default access rules for presentities and inboxes of this domain. */
  readonly access: AccessRules;
}

export interface DomainMapping {
  readonly domain: string;
  /** The network that is this domain's home. */
  readonly home: NetworkId;
  /** How users of this domain appear on other networks: network → that adapter's appearance section. */
  readonly appearsOn: ReadonlyMap<NetworkId, Readonly<Record<string, unknown>>>;
  readonly policy: DomainPolicy;
  readonly source: SourceRef;
}

export interface NetworkMapping {
  readonly network: NetworkId;
  readonly enabled: boolean;
  /** Foreign network id → the domain its users of unlisted domains appear under here (DESIGN §1, shared form). */
  readonly sharedDomains: Readonly<Record<string, string>>;
  /** The adapter's own part of `networks.<id>` (server names, prefixes), validated by its schema. */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly federation: FederationPolicy;
  readonly source: SourceRef;
}

export interface DomainMappings {
  readonly networks: ReadonlyMap<NetworkId, NetworkMapping>;
  readonly domains: ReadonlyMap<string, DomainMapping>;
  /** Policy for domains nobody listed. */
  readonly defaultPolicy: DomainPolicy;
  /** Linked rooms (`rooms:`, issue 12); absent when the file has none. */
  readonly rooms?: RoomDirectory;
}
