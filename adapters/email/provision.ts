/** The email part of `parley docker-init`: the blob directory and the SMTP listener and relay. */
import { join } from "node:path";
import type { AdapterProvisioning } from "../../src/adapter/declarations.js";

export const emailProvisioning: AdapterProvisioning = {
  options: { relay: { default: "smtp-relay:25", valueName: "HOST:PORT" } },
  provision(ctx) {
    ctx.directory("blobs");
    const [host, port] = (ctx.options.relay ?? "").split(":");
    return {
      listen: { host: "0.0.0.0", port: 2525 },
      outbound: { mode: "relay", host, port: Number(port ?? 25) },
      blobDir: join(ctx.dir, "blobs"),
    };
  },
};
