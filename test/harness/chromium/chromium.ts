/**
 * Headless Chromium for the console's browser tests (issue 17): Debian's `chromium`, installed
 * when missing as the other peers are (STACK.md "Installing peers from Debian"); never a browser
 * build downloaded by a library. playwright-core (a devDependency) drives it through
 * `executablePath`.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export const CHROMIUM = "/usr/bin/chromium";

/** The Chromium executable, installing Debian's package first when it is missing (root only). */
export function ensureChromium(): string {
  if (spawnSync("dpkg", ["-s", "chromium"], { stdio: "ignore" }).status === 0 && existsSync(CHROMIUM)) return CHROMIUM;
  const install = "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600 chromium";
  if (process.getuid?.() !== 0) throw new Error(`Chromium is not installed. Run as root: apt-get update && ${install}`);
  const update = spawnSync("apt-get", ["update", "-o", "DPkg::Lock::Timeout=600"], { stdio: "inherit" });
  if (update.status !== 0) throw new Error("apt-get update failed");
  const r = spawnSync("sh", ["-c", install], { stdio: "inherit" });
  if (r.status !== 0 || !existsSync(CHROMIUM)) throw new Error(`"${install}" failed with status ${r.status}`);
  return CHROMIUM;
}

/** Flags for Chromium in CI: as root it needs --no-sandbox; no GPU, no shared-memory surprises. */
export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"];
