/** The real networks (each adapter factory's id and addressing), as `parley` itself knows them. */
import { adapterFactories } from "../../adapters/index.js";
import type { KnownNetwork } from "../../src/mappings/load.js";

export function realNetworks(): KnownNetwork[] {
  return adapterFactories.map((f) => ({ id: f.id, addressing: f.addressing }));
}
