/**
 * The `parley` command and the composition root (DESIGN §7): the one file that imports both the
 * adapter list and the core. `start` runs the gateway until a signal; every other subcommand is
 * `src/cli/main.ts` with the adapter list of `adapters/index.ts`.
 */
import { parseArgs } from "node:util";
import { adapterFactories } from "../adapters/index.js";
import { loaderFor, runCommand } from "../src/cli/main.js";
import type { CommandOutput } from "../src/cli/index.js";
import { buildGateway, type Role } from "../src/build.js";
import { createLogger } from "../src/log/logger.js";
import { isParleyError } from "../src/errors/parley-error.js";
import { errorMessage } from "../src/errors/message.js";
import { redactUrlSecrets } from "../src/log/redact-url.js";

function print(out: CommandOutput): number {
  for (const line of out.lines) (out.exitCode === 0 ? console.log : console.error)(redactUrlSecrets(line));
  return out.exitCode;
}

async function start(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { config: { type: "string" }, role: { type: "string", default: "all" } } });
  const role = values.role as Role;
  if (!["all", "ingress", "workers"].includes(role)) return print({ exitCode: 2, lines: [`parley: --role must be all, ingress or workers, not "${role}"`] });
  const loaded = await loaderFor(adapterFactories, process.env)(values.config);
  if ("exitCode" in loaded) return print(loaded);
  const log = createLogger({ level: loaded.config.log.level, secrets: adapterFactories });
  // A rejection nobody handles is a bug whose state cannot be trusted: exit as Node would, but say
  // why in the structured log first, so the operator's log shows it next to the restart.
  process.on("unhandledRejection", (reason: unknown) => {
    log.fatal({ err: errorMessage(reason), stack: reason instanceof Error ? reason.stack : undefined }, "unhandled rejection (a bug in Parley or a library); exiting");
    process.exit(1);
  });
  const built = await buildGateway({ config: loaded.config, mappings: loaded.mappings, factories: adapterFactories, log, role, adoptMappingsFile: true });
  await built.start();
  log.info({ role, networks: Object.keys(loaded.config.adapters) }, "parley started");
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, "stopping: ingress first, then draining deliveries, then the links, then Redis");
      // A stop that hangs (a peer that never answers a close) must not hold a restart back (issue 10:
      // exit within 2 s of SIGTERM). Every step of the ingress stop is bounded (the XMPP handover:
      // up to 0.75 s for the stanzas being handled, 1 s for the link to close; its unhandled inbound
      // stays in the journal for the next holder); after it the rest gets what is left of 2 s, at
      // least 0.5 s (running deliveries not finished by then are retried elsewhere). A backstop
      // for an ingress stop that itself hangs.
      const t0 = Date.now();
      setTimeout(() => { log.error("ingress did not stop within 5 s; exiting"); process.exit(1); }, 5_000).unref();
      const armWatchdog = () => {
        const ms = Math.max(500, 2_000 - (Date.now() - t0));
        setTimeout(() => { log.error({ ms: Date.now() - t0 }, "stop did not finish within 2 s of the signal; exiting"); process.exit(1); }, ms).unref();
      };
      built.stop(armWatchdog).then(resolve, (e: unknown) => { log.error({ err: errorMessage(e) }, "unclean stop"); resolve(); });
    };
    // SIGHUP: read the mappings file again; every process swaps to it, an invalid file changes nothing.
    process.on("SIGHUP", () => {
      built.live.reloadFile().then(
        (r) => (r.ok ? log.info({ version: r.version, unchanged: r.unchanged ?? false }, "mappings reloaded (SIGHUP)") : log.error({ problems: r.problems }, "mappings file invalid: nothing changed")),
        (e: unknown) => log.error({ err: errorMessage(e) }, "mappings reload failed: nothing changed"));
    });
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    process.once("SIGINT", () => shutdown("SIGINT"));
  });
  log.info("parley stopped");
  // Exit now: a library timer or socket left behind must not keep a stopped gateway alive.
  process.exit(0);
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === "start") return start(argv.slice(1));
  if (argv[0] === "docker-init") return print(await (await import("./docker-init.js")).dockerInitCommand(argv.slice(1)));
  return print(await runCommand(argv, adapterFactories, process.env));
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    console.error(redactUrlSecrets(isParleyError(e) ? `parley: ${e.code}: ${e.message}` : `parley: ${(e as Error).stack ?? String(e)}`));
    process.exitCode = 1;
  },
);
