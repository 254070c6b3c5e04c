/**
 * What an adapter factory declares besides the adapter itself, so that everything a network
 * brings lives in its own folder: the names it claims in the mappings (for clash checks), its
 * `parley doctor` checks, its `parley <network> …` subcommands and where its documentation is.
 * The core and `bin/` read these from the factory list; neither names a network.
 */
import type { DomainMappings } from "../mappings/types.js";
import type { AdapterStateStore } from "./state.js";

/**
 * A name a mapping occupies on the adapter's network: a domain (an XMPP component domain, a mail
 * domain) or a prefix of native ids (a Matrix localpart prefix). The core refuses a mappings file
 * in which two things claim one name on a network, a claimed domain is also a listed domain of
 * another home, or one prefix starts another (their ids would be ambiguous).
 */
export interface AddressClaim {
  readonly kind: "domain" | "prefix";
  readonly name: string;
  /** The key within the section that holds the name, for the problem's `file:line: key`. */
  readonly key: string;
}

/** How `parley doctor` reports one check: what was checked, how it went, and how to fix a failure. */
export type FindingStatus = "ok" | "fail" | "note";

export interface Finding {
  readonly check: string;
  readonly status: FindingStatus;
  readonly detail: string;
  readonly fix?: string;
}

/** What an adapter's doctor checks get besides their own config section. */
export interface AdapterDoctorContext {
  readonly mappings: DomainMappings;
  /** Per network step (connect, handshake, request). */
  readonly timeoutMs: number;
}

/** What a command prints and the process's exit code. */
export interface CommandOutput {
  readonly exitCode: number;
  readonly lines: readonly string[];
}

/** What an adapter's subcommand may ask of the composition root. */
export interface AdapterCommandContext<Config> {
  /**
   * Load and validate the gateway config (`--config FILE`, else the built-in default) and the
   * mappings it names. `section` is this adapter's parsed `adapters.<id>` section, or undefined
   * when the config has none. On problems, the output to print instead.
   */
  load(configPath: string | undefined): Promise<{ readonly section: Config | undefined; readonly mappings: DomainMappings } | CommandOutput>;
  /**
   * As `load`, and this adapter's durable state — the same {@link AdapterStateStore} the running
   * gateway gives it, on the config's Redis — for the span of `use`; the connection is closed
   * after. For admin actions on what the adapter keeps (e.g. a list's members).
   */
  withState(
    configPath: string | undefined,
    use: (loaded: { readonly section: Config | undefined; readonly mappings: DomainMappings; readonly state: AdapterStateStore }) => Promise<CommandOutput>,
  ): Promise<CommandOutput>;
}

/** `parley <network> <name> …`, e.g. `parley matrix registration`. */
export interface AdapterCommand<Config> {
  readonly name: string;
  /** The options after `parley <network> <name>`, as the usage text shows them. */
  readonly usage: string;
  /** One line for `parley help`. */
  readonly summary: string;
  /**
   * When called: from the `parley` command line, in a process that runs no gateway.
   * Must not: start the adapter, or change anything but the files its options name and, through
   * `withState`, the adapter's own state.
   */
  run(args: readonly string[], ctx: AdapterCommandContext<Config>): Promise<CommandOutput>;
}

/** Where an admin reads about the network, linked from the sample config and docs. */
export interface AdapterDocs {
  /** The network's README, relative to the repository root (`adapters/<id>/README.md`). */
  readonly readme: string;
}

/** One `parley docker-init --<name> VALUE` option a network brings, with the compose deployment's default. */
export interface ProvisionOption {
  readonly default?: string;
  /** Shown in the usage text as `--<name> <valueName>`. */
  readonly valueName: string;
}

/** What `parley docker-init` hands a network's provisioning step. */
export interface ProvisionContext {
  /** The shared directory the containers mount (absolute). */
  readonly dir: string;
  readonly mappings: DomainMappings;
  /** The values of the options this network declared (defaults applied), by option name. */
  readonly options: Readonly<Record<string, string | undefined>>;
  /**
   * Write `path` (relative to `dir`, or absolute) unless it exists: `make` runs only when it
   * does not, so secrets survive restarts. Creates the parent directory.
   */
  file(path: string, make: () => string, mode: number): void;
  /** The text of `path` (relative to `dir`, or absolute), or undefined when there is none. */
  read(path: string): string | undefined;
}

/** A network's part of the Docker deployment's first start (`parley docker-init`, docs/deployment.md). */
export interface AdapterProvisioning {
  readonly options: Readonly<Record<string, ProvisionOption>>;
  /**
   * When called: by `parley docker-init`, once per run, after the mappings validated; in a process
   * that runs no gateway. Returns this network's `adapters.<id>` section of the generated
   * parley.yaml, secrets referenced as files (never inline).
   * Must not: overwrite a file (`ctx.file` keeps existing ones), talk to the network.
   */
  provision(ctx: ProvisionContext): Record<string, unknown>;
}
