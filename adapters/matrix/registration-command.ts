/** `parley matrix registration`: write the application-service registration for the homeserver. */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { AdapterCommand } from "../../src/adapter/declarations.js";
import type { MatrixConfig } from "./config.js";
import { writeRegistration } from "./registration.js";
import { errorMessage } from "../../src/errors/message.js";

const OPTIONS = "[--config FILE] [--url URL] [--id ID] [--out FILE]";

export const registrationCommand: AdapterCommand<MatrixConfig> = {
  name: "registration",
  usage: OPTIONS,
  summary: "write the application-service registration",
  async run(args, ctx) {
    let values;
    try {
      ({ values } = parseArgs({ args: [...args], options: { config: { type: "string" }, url: { type: "string" }, id: { type: "string" }, out: { type: "string" } } }));
    } catch (e) {
      return { exitCode: 2, lines: [`parley: ${errorMessage(e)}`, `usage: parley matrix registration ${OPTIONS}`] };
    }
    const loaded = await ctx.load(values.config);
    if ("exitCode" in loaded) return loaded;
    const matrix = loaded.section;
    const url = values.url ?? (matrix ? `http://${matrix.listen.host}:${matrix.listen.port}` : null);
    const written = writeRegistration({
      id: values.id ?? matrix?.appserviceId ?? "parley",
      url,
      mappings: loaded.mappings,
      // Keep the tokens Parley's config already has, so the two stay in step.
      asToken: matrix?.asToken,
      hsToken: matrix?.hsToken,
    });
    if (values.out === undefined) return { exitCode: 0, lines: written.yaml.trimEnd().split("\n") };
    await writeFile(values.out, written.yaml, { mode: 0o600 });
    const lines = [`wrote ${values.out}: give it to the homeserver (Synapse: app_service_config_files)`];
    if (!matrix) lines.push("the config has no adapters.matrix section: put these tokens in it (or PARLEY_ADAPTERS__MATRIX__AS_TOKEN / __HS_TOKEN):", `  asToken: ${written.asToken}`, `  hsToken: ${written.hsToken}`);
    return { exitCode: 0, lines };
  },
};
