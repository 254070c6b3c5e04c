/** The contract suite run against the test double, which offers every hook: no check is skipped. */
import { adapterContractSuite } from "./adapter-contract.js";
import { doubleSetup } from "../support/double-setup.js";
import { testDoubleFactory } from "../support/test-double-adapter.js";

adapterContractSuite("test double", () => doubleSetup(testDoubleFactory("alpha")));
