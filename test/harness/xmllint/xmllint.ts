/**
 * Debian's `xmllint` (package `libxml2-utils`), the real XML Schema validator the PIDF tests use.
 * Installed non-interactively when missing (root only; otherwise the error names the command), as
 * the other peers are (team brief, "Peers"): installed packages do not survive a move to a new machine.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const INSTALL = "DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=600 --no-install-recommends libxml2-utils";

export function ensureXmllint(): void {
  if (spawnSync("dpkg", ["-s", "libxml2-utils"], { stdio: "ignore" }).status === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`xmllint is not installed. Run as root: apt-get update && ${INSTALL}`);
  let r = spawnSync("sh", ["-c", INSTALL], { stdio: "inherit" });
  if (r.status !== 0) {
    spawnSync("apt-get", ["update", "-o", "DPkg::Lock::Timeout=600"], { stdio: "inherit" });
    r = spawnSync("sh", ["-c", INSTALL], { stdio: "inherit" });
  }
  if (r.status !== 0) throw new Error(`"${INSTALL}" failed with status ${r.status}`);
}

/** `all.xsd`: RFC 3863 PIDF, RFC 4479 data model, RFC 4480 RPID and Parley's own elements. */
export const PIDF_SCHEMA = fileURLToPath(new URL("../../fixtures/pidf/all.xsd", import.meta.url));

/** Validate a document against a schema; `valid` and xmllint's own words. */
export function validateXml(document: string, schema: string = PIDF_SCHEMA): { valid: boolean; output: string } {
  const r = spawnSync("xmllint", ["--noout", "--nonet", "--schema", schema, "-"], { input: document, encoding: "utf8" });
  return { valid: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}
