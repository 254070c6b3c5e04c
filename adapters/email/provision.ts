/** The email part of `parley docker-init`: the SMTP listener and the relay (files go to the core's `media.dir`). */
import type { AdapterProvisioning } from "../../src/adapter/declarations.js";

export const emailProvisioning: AdapterProvisioning = {
  options: { relay: { default: "smtp-relay:25", valueName: "HOST:PORT" } },
  provision(ctx) {
    const [host, port] = (ctx.options.relay ?? "").split(":");
    return { listen: { host: "0.0.0.0", port: 2525 }, outbound: { mode: "relay", host, port: Number(port ?? 25) } };
  },
};
