/**
 * The one list of adapters (DESIGN §7). `bin/parley.ts` hands it to the core; nothing registers
 * itself by import side effect. An adapter runs when the config has its `adapters.<id>` section.
 */
import type { AdapterFactory } from "../src/adapter/contract.js";
import { xmppAdapter } from "./xmpp/index.js";
import { matrixAdapter } from "./matrix/index.js";
import { emailAdapter } from "./email/index.js";

export const adapterFactories: readonly AdapterFactory<unknown>[] = [
  xmppAdapter,
  matrixAdapter,
  emailAdapter,
];
