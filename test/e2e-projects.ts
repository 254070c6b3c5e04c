/**
 * E2e test projects found on disk, so a network's end-to-end tests cannot silently never run:
 * every folder under `test/` holding an `e2e.project.json` is one vitest project that runs the
 * `*.test.ts` files below that folder, with the peers its `globalSetup` names. A network's
 * folder of e2e tests brings its own file; vitest.config.ts lists no network by name.
 */
import { globSync, readFileSync } from "node:fs";
import { dirname } from "node:path";

export interface E2eProjectFile {
  /** The project name, `e2e-<network>`. */
  readonly name: string;
  /** Global setups that start the peers once per run (test/harness/<peer>/global-setup.ts). */
  readonly globalSetup: readonly string[];
  readonly testTimeout?: number;
}

export interface E2eProject extends E2eProjectFile {
  readonly include: readonly string[];
}

/** Every e2e project under `root` (the repository), sorted by name. */
export function discoverE2eProjects(root = "."): E2eProject[] {
  return globSync("test/**/e2e.project.json", { cwd: root, exclude: (p) => p.includes("node_modules") })
    .map((file) => {
      const spec = JSON.parse(readFileSync(`${root}/${file}`, "utf8")) as E2eProjectFile;
      return { ...spec, include: [`${dirname(file)}/**/*.test.ts`] };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
