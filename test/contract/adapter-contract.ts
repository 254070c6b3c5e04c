/**
 * The one contract suite every adapter passes (RFC 2779 T-3.1.1, T-4.1.1). Each adapter's test
 * calls {@link adapterContractSuite} with a setup that starts the adapter against its real peer
 * (or, for the doubles, against memory) and hooks that observe and drive that peer (setup.ts).
 * The checks are in `checks.ts`; `broken-double.test.ts` proves each of them can fail.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { CONTRACT_CHECKS } from "./checks.js";
import type { ContractSetup } from "./setup.js";

export { canonicalPresence, canonicalTextMessage, type ContractSetup, type InboundAnswer } from "./setup.js";

export function adapterContractSuite(name: string, setup: () => Promise<ContractSetup>): void {
  describe(`adapter contract: ${name}`, () => {
    let s: ContractSetup;
    beforeAll(async () => { s = await setup(); });
    afterAll(async () => { await s?.teardown(); });
    for (const check of CONTRACT_CHECKS) {
      it(check.name, async (t) => {
        const missing = check.needs?.(s);
        if (missing) t.skip(`${name} offers no ${missing}`);
        await check.run(s);
      });
    }
  });
}
