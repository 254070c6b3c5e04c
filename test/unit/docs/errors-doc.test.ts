/** docs/errors.md lists exactly the codes of src/errors/codes.ts, with the same HTTP status and reason. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../../src/errors/codes.js";

describe("docs/errors.md", () => {
  const rows = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("| `PARLEY_"))
    .map((l) => l.split("|").map((c) => c.trim()));

  it("lists exactly the catalogued codes", () => {
    const documented = rows.map((r) => r[1]!.replaceAll("`", "")).sort();
    expect(documented).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it("gives each code the catalogue's HTTP status, reason and retry flag", () => {
    for (const r of rows) {
      const info = ERROR_CODES[r[1]!.replaceAll("`", "") as keyof typeof ERROR_CODES];
      expect({ http: r[2], reason: r[3], retry: r[4] }).toEqual({ http: String(info.http), reason: info.reason, retry: info.retryable ? "yes" : "no" });
    }
  });
});
