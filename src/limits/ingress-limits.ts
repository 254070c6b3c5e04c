/**
 * The ingress rate limits (issue 14, DESIGN "per-sender rate limits on every ingress"): every
 * inbound message counts against its sender and its sender's domain, in Redis, so all ingress
 * processes share the count. A message over either limit is refused with PARLEY_RATE_LIMITED,
 * whose details carry `retryAfterMs`; each adapter answers it in its network's own "slow down".
 * Adapters with limits of their own (SMTP per IP and per envelope sender) use {@link portFor}.
 */
import { Counter, type Registry } from "prom-client";
import type { RatePort } from "../adapter/limits.js";
import { domainOf, endpointKey, type Endpoint, type NetworkId } from "../model/address.js";
import { ParleyError } from "../errors/parley-error.js";
import type { RedisRateLimiter } from "./rate-limiter.js";

export interface IngressLimitsConfig {
  readonly enabled: boolean;
  readonly perSenderPerMinute: number;
  readonly perDomainPerMinute: number;
}

export class IngressLimits {
  private readonly limited: Counter<"network" | "scope">;

  constructor(private readonly limiter: RedisRateLimiter, private readonly config: IngressLimitsConfig, registry: Registry) {
    this.limited = new Counter({
      name: "parley_ingress_rate_limited_total",
      help: "Inbound events answered \"slow down\" by the shared rate limits, by source network and scope (sender, domain, or an adapter's own bucket)",
      labelNames: ["network", "scope"],
      registers: [registry],
    });
  }

  /**
   * Count one message from `from` arriving on `source`. Undefined when it may pass; else the
   * refusal (both counts are taken at once, so a refused sender still counts for its domain).
   */
  async admit(source: NetworkId, from: Endpoint): Promise<ParleyError | undefined> {
    if (!this.config.enabled) return undefined;
    const c = this.config;
    const [sender, domain] = await Promise.all([
      this.limiter.take(source, "sender", endpointKey(from), { perMinute: c.perSenderPerMinute }),
      this.limiter.take(source, "domain", domainOf(from.address), { perMinute: c.perDomainPerMinute }),
    ]);
    if (sender.allowed && domain.allowed) return undefined;
    const scope = sender.allowed ? "domain" : "sender";
    const retryAfterMs = Math.max(sender.retryAfterMs, domain.retryAfterMs);
    this.limited.inc({ network: source, scope });
    const who = scope === "sender" ? from.address : `senders of ${domainOf(from.address)}`;
    return new ParleyError("PARLEY_RATE_LIMITED", `too many messages from ${who}; retry in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs, scope });
  }

  /** The port an adapter's own limits use (`ctx.limits`), counted under its network. */
  portFor(network: NetworkId): RatePort {
    return {
      take: async (bucket, key, rule) => {
        const v = await this.limiter.take(network, bucket, key, rule);
        if (!v.allowed) this.limited.inc({ network, scope: bucket });
        return v;
      },
    };
  }
}

/** The `retryAfterMs` a PARLEY_RATE_LIMITED refusal carries, if any. */
export function retryAfterOf(error: ParleyError): number | undefined {
  const v = error.details.retryAfterMs;
  return typeof v === "number" && v >= 0 ? v : undefined;
}
