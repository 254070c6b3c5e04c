/** Start-up checks of the registration tokens (issue 4 step 1) against the tier's Synapse. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { matrixAdapter, writeRegistration } from "../../../adapters/matrix/index.js";
import { asNetworkId } from "../../../src/model/address.js";
import { isParleyError } from "../../../src/errors/parley-error.js";
import { FakeContext } from "../../support/fake-context.js";
import { matrixTestMappings } from "./rig.js";

const coords = inject("synapse");
const slot = coords.appservices[5]!;
const mappings = matrixTestMappings(coords, slot);
let dir: string;

const config = (over: Record<string, unknown>) => matrixAdapter.configSchema.parse({
  homeserverUrl: coords.baseUrl, appserviceId: slot.id, asToken: slot.asToken, hsToken: slot.hsToken,
  listen: { host: "127.0.0.1", port: slot.port }, ...over,
});

beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), "parley-matrix-reg-")); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe("Matrix adapter start-up", () => {
  it("refuses an as_token the homeserver does not know", async () => {
    const adapter = matrixAdapter.create(config({ asToken: "x".repeat(43) }));
    const err = await adapter.start(new FakeContext({ network: asNetworkId("matrix"), mappings })).catch((e: unknown) => e);
    expect(isParleyError(err, "PARLEY_CONFIG_INVALID")).toBe(true);
    expect(adapter.health().ready).toBe(false);
    await adapter.stop();
  });

  it("refuses tokens that differ from the registration file, and starts with matching ones", async () => {
    const file = join(dir, "registration.yaml");
    await writeFile(file, writeRegistration({ id: slot.id, url: slot.url, mappings, asToken: slot.asToken, hsToken: "y".repeat(43) }).yaml);
    const bad = matrixAdapter.create(config({ registrationFile: file }));
    const err = await bad.start(new FakeContext({ network: asNetworkId("matrix"), mappings })).catch((e: unknown) => e);
    expect(isParleyError(err, "PARLEY_CONFIG_INVALID")).toBe(true);
    expect((err as Error).message).toContain("hs_token differs");
    expect((err as Error).message).not.toContain(slot.hsToken);
    await writeFile(file, writeRegistration({ id: slot.id, url: slot.url, mappings, asToken: slot.asToken, hsToken: slot.hsToken }).yaml);
    const good = matrixAdapter.create(config({ registrationFile: file }));
    await good.start(new FakeContext({ network: asNetworkId("matrix"), mappings }));
    expect(good.health().ready).toBe(true);
    await good.stop();
    expect(good.health().ready).toBe(false);
  });
});
