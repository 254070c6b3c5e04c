/**
 * Optional capability: an adapter whose ingress can stop before its deliveries do (DESIGN §3,
 * STYLE habit 10). On a graceful stop the gateway first calls {@link IngressControl.stopIngress}
 * on every adapter that has it, then drains the delivery workers, then calls `stop()`, and only
 * then are the Redis connections closed: an event a source hands over during the stop is either
 * stored (and acknowledged) or refused with the network's own "try later", never dropped.
 *
 * An adapter whose listener is separate from its sending side (an HTTP endpoint, an SMTP
 * listener) implements it, and its deliveries keep working. One whose ingress and egress share a
 * link (the XMPP component) implements it too when the link has somewhere to go: it hands the
 * link over at once (what it wrote confirmed first), since every moment the link stays up brings
 * it events it may not have time to store; its later deliveries fail as transient and are retried
 * by the process that takes the link (issue 10).
 */
import type { Adapter } from "./contract.js";

export interface IngressControl {
  /** Stop taking new inbound events and wait for those being accepted; deliveries keep working unless they share the ingress's link (above). Idempotent. */
  stopIngress(): Promise<void>;
}

export function hasIngressControl(a: Adapter): a is Adapter & IngressControl {
  return typeof (a as Partial<IngressControl>).stopIngress === "function";
}

/**
 * Optional capability: a network whose deliveries go out over the same live link its ingress
 * reads (the XMPP component link). Such an adapter is not started in the `workers` role; its
 * deliveries run in the processes that hold the link (roles `all` and `ingress`).
 */
export interface DeliversOverLink {
  readonly deliversOverLink: true;
}

export function deliversOverLink(a: Adapter): a is Adapter & DeliversOverLink {
  return (a as Partial<DeliversOverLink>).deliversOverLink === true;
}
