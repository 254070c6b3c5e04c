/**
 * One Parley process for the failover test (failover.test.ts): the real gateway with the XMPP
 * adapter and a Matrix test double, on a shared Redis prefix. Driven over the IPC channel:
 * `accept` (canonical events, answered once durable), `health`, `stop`.
 */
import { startTestGateway } from "../../support/gateway.js";
import { testDoubleFactory } from "../../support/test-double-adapter.js";
import { xmppAdapter, type XmppAdapter } from "../../../adapters/xmpp/index.js";
import { asNetworkId } from "../../../src/model/address.js";
import type { CanonicalEvent } from "../../../src/model/events.js";
import type { ProsodyCoordinates } from "../../harness/prosody/prosody.js";
import { gatewayMappings } from "./gateway-support.js";

type Command = { id: number; cmd: "accept"; events: CanonicalEvent[] } | { id: number; cmd: "health" } | { id: number; cmd: "stop" };

const coords = JSON.parse(process.env.PARLEY_TEST_PROSODY ?? "{}") as ProsodyCoordinates;
const prefix = process.env.PARLEY_TEST_PREFIX ?? "test-failover";

const gw = await startTestGateway({
  factories: [xmppAdapter, testDoubleFactory("matrix")],
  adapters: {
    xmpp: { host: coords.host, port: coords.componentPort, componentSecret: coords.componentSecret, reconnect: { baseMs: 100, maxMs: 1000 } },
    matrix: {},
  },
  mappings: gatewayMappings(coords),
  prefix,
  // Production attempt count: a standby without the link takes no XMPP jobs (src/gateway.ts follows
  // adapter readiness), so retries are spent only by real failures.
  delivery: { attempts: 10, backoffBaseMs: 100, backoffCapMs: 300 },
});

const reply = (msg: unknown) => process.send?.(msg);
process.on("disconnect", () => process.exit(0)); // never outlive the test (STACK.md: orphaned workers)
process.on("message", (m: Command) => {
  void (async () => {
    try {
      if (m.cmd === "accept") reply({ id: m.id, ok: await gw.gateway.accept(asNetworkId("matrix"), m.events) });
      else if (m.cmd === "health") {
        const a = gw.gateway.adapter(asNetworkId("xmpp")) as XmppAdapter | undefined;
        reply({ id: m.id, ok: { ...gw.gateway.health().xmpp, owner: a?.ownsLink ?? false } });
      } else {
        await gw.stop();
        reply({ id: m.id, ok: true });
        process.exit(0);
      }
    } catch (e) {
      reply({ id: m.id, error: (e as Error).message });
    }
  })();
});
reply({ ready: true });
