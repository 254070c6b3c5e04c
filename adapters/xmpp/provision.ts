/**
 * The XMPP part of `parley docker-init`: the XEP-0114 component secret, which Prosody's config
 * reads from the shared volume too, and the component link's section of parley.yaml.
 */
import { randomBytes } from "node:crypto";
import type { AdapterProvisioning } from "../../src/adapter/declarations.js";

export const xmppProvisioning: AdapterProvisioning = {
  options: { "xmpp-host": { default: "prosody", valueName: "HOST" } },
  provision(ctx) {
    // Prosody (another user in its container) reads this one: world-readable inside the volume.
    ctx.file("secrets/xmpp-component-secret", () => `${randomBytes(32).toString("hex")}\n`, 0o644);
    // The secret itself reaches Parley through PARLEY_ADAPTERS__XMPP__COMPONENT_SECRET_FILE.
    return { host: ctx.options["xmpp-host"], port: 5347 };
  },
};
