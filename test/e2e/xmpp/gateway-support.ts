/** The XMPP adapter inside the real gateway (src/build.ts: real Redis, BullMQ workers, router, presence). */
import { testMappings } from "../../support/mappings.js";
import { testDoubleFactory } from "../../support/test-double-adapter.js";
import { startTestGateway, type TestGateway } from "../../support/gateway.js";
import { xmppAdapter } from "../../../adapters/xmpp/index.js";
import type { DomainMappings } from "../../../src/mappings/types.js";
import type { Logger } from "../../../src/log/logger.js";
import type { ProsodyCoordinates } from "../../harness/prosody/prosody.js";

/** XMPP users on the harness's VirtualHost; Matrix users (a test double) appear on the matrix.test component. */
export function gatewayMappings(c: Pick<ProsodyCoordinates, "userDomain">): DomainMappings {
  return testMappings({
    networks: { xmpp: { settings: { sharedDomains: { matrix: "matrix.gw.test" } } }, matrix: { settings: {} } },
    domains: {
      [c.userDomain]: { home: "xmpp", policy: { access: { subscribe: "approval", allow: [], blockSubscribers: [], politelyBlocked: [], visibility: {}, defaultVisibility: "full", allowUnauthenticatedSubscribers: false, blockSenders: [] } } },
      "matrix.test": { home: "matrix", appearsOn: { xmpp: { componentDomain: "matrix.test" } } },
    },
  });
}

export interface XmppGateway {
  gw: TestGateway;
  matrix: ReturnType<typeof testDoubleFactory>;
}

export async function startXmppGateway(c: ProsodyCoordinates, o: { prefix?: string; log?: Logger; attempts?: number } = {}): Promise<XmppGateway> {
  const matrix = testDoubleFactory("matrix");
  const gw = await startTestGateway({
    factories: [xmppAdapter, matrix],
    adapters: {
      xmpp: { host: c.host, port: c.componentPort, componentSecret: c.componentSecret, reconnect: { baseMs: 100, maxMs: 1000 }, lease: { ttlMs: 3000, renewMs: 500 } },
      matrix: {},
    },
    mappings: gatewayMappings(c),
    prefix: o.prefix,
    log: o.log,
    delivery: { attempts: o.attempts ?? 60, backoffBaseMs: 100, backoffCapMs: 500 },
  });
  return { gw, matrix };
}
