/**
 * Test gateways keep their files out of the checkout: a gateway started with no `media` option
 * (as every cross-network e2e gateway is) would otherwise take the product default
 * `./data/blobs`, relative to the working directory — the checkout, under `npm test`.
 */
import { existsSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";
import type { TestDoubleAdapter } from "../../support/test-double-adapter.js";
import { repoRoot } from "../../support/parley-processes.js";
import { alice, twoNetworkMappings, twoNetworks } from "../../support/two-networks.js";

let gw: TestGateway | undefined;
afterEach(async () => { await gw?.destroy(); gw = undefined; });

describe("a test gateway's blob store", () => {
  it("is a temporary directory outside the checkout, holds what the gateway keeps, and goes with destroy()", async () => {
    const checkoutData = join(repoRoot, "data");
    const hadData = existsSync(checkoutData);
    const { factories } = twoNetworks();
    gw = await startTestGateway({ factories, adapters: { alpha: {}, beta: {} }, mappings: twoNetworkMappings });
    const dir = gw.config.media.dir;
    expect(isAbsolute(dir), dir).toBe(true);
    expect(relative(repoRoot, dir).startsWith(".."), `${dir} is inside the checkout`).toBe(true);

    const media = (gw.gateway.adapter(alice.network) as TestDoubleAdapter).ctx!.media!;
    const kept = await media.keep(Buffer.from("an original message, kept"));
    const hex = kept.blobRef.replace(/^sha256:/, "");
    expect(existsSync(join(dir, hex.slice(0, 2), hex))).toBe(true);
    if (!hadData) expect(existsSync(checkoutData), "the gateway wrote data/ into the checkout").toBe(false);

    await gw.destroy();
    gw = undefined;
    expect(existsSync(dir)).toBe(false);
  });
});
