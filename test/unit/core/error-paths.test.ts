/**
 * Error paths that keep their promises (RFC 2779 T-5.4.1): a malformed job is permanent, one
 * classifier decides unknown errors for the runner and the dispatcher alike, and the Matrix user
 * query never answers "no such user" for a failure that may pass.
 */
import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { MatrixError } from "matrix-js-sdk";
import { ZodError } from "zod";
import { asDeliveryError } from "../../../src/adapter/classify.js";
import { DeliveryError } from "../../../src/adapter/contract.js";
import { Dispatcher } from "../../../src/core/dispatch.js";
import { createCoreMetrics } from "../../../src/core/metrics.js";
import type { PresencePort } from "../../../src/core/ports.js";
import type { DeliveryJob } from "../../../src/delivery/types.js";
import { ParleyError } from "../../../src/errors/parley-error.js";
import { silentLogger } from "../../../src/log/logger.js";
import { asNetworkId } from "../../../src/model/address.js";
import { answerUserQuery } from "../../../adapters/matrix/user-query.js";
import { MemoryDelivery } from "../../support/memory-delivery.js";
import { MemoryIdMap } from "../../support/fake-context.js";
import { TestDoubleAdapter, TestDoublePeer } from "../../support/test-double-adapter.js";
import { testMappings } from "../../support/mappings.js";

describe("one classifier of unknown errors", () => {
  it("keeps an adapter's DeliveryError as it is", () => {
    const e = new DeliveryError("rate-limited", "rate-limited", "slow down", { retryAfterMs: 5 });
    expect(asDeliveryError(e)).toBe(e);
  });

  it("a payload failing its schema is permanent bad-request", () => {
    const e = asDeliveryError(new ZodError([]));
    expect([e.failureClass, e.reason]).toEqual(["permanent", "bad-request"]);
  });

  it("a ParleyError follows the catalogue: retryable codes are transient, the others permanent", () => {
    expect(asDeliveryError(new ParleyError("PARLEY_UNAVAILABLE", "redis down"))).toMatchObject({ failureClass: "transient", reason: "unavailable" });
    expect(asDeliveryError(new ParleyError("PARLEY_ADDRESS_UNKNOWN", "who?"))).toMatchObject({ failureClass: "permanent", reason: "recipient-unknown" });
  });

  it("anything else is transient internal (it may pass)", () => {
    expect(asDeliveryError(new Error("socket hang up"))).toMatchObject({ failureClass: "transient", reason: "internal" });
    expect(asDeliveryError("weird")).toMatchObject({ failureClass: "transient", reason: "internal" });
  });
});

describe("the dispatcher and a malformed job", () => {
  const dispatcher = () => new Dispatcher({
    adapters: () => new TestDoubleAdapter(new TestDoublePeer()), presence: {} as PresencePort, delivery: new MemoryDelivery(),
    ids: new MemoryIdMap(), log: silentLogger(), metrics: createCoreMetrics(new Registry()),
  });

  it.each(["message", "status"] as const)("T-5.4.1 a %s payload that fails its schema is permanent, never retried for the budget", async (kind) => {
    const job: DeliveryJob = { kind, network: asNetworkId("beta"), key: "k", conversation: "c", payload: { nonsense: true }, attempt: 1 };
    const err = await dispatcher().deliver(job).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err).toMatchObject({ failureClass: "permanent", reason: "bad-request" });
  });
});

describe("the Matrix user query", () => {
  const mappings = testMappings({
    networks: { xmpp: {}, matrix: { settings: { serverName: "matrix.example.org", puppetPrefix: "_parley_", botLocalpart: "parley" } } },
    domains: { "chat.example.org": { home: "xmpp", appearsOn: { matrix: { prefix: "_chat_" } } }, "matrix.example.org": { home: "matrix" } },
  });
  const puppet = "@_chat_alice:matrix.example.org";
  const query = (ensure: () => Promise<void>, userId = puppet) => answerUserQuery({ mappings: () => mappings, ensure, log: silentLogger() }, userId);

  it("answers 200 once the puppet is registered", async () => {
    expect((await query(async () => undefined)).status).toBe(200);
  });

  it("answers M_NOT_FOUND for a user id that is no puppet", async () => {
    expect((await query(async () => undefined, "@someone:matrix.example.org")).body.errcode).toBe("M_NOT_FOUND");
    expect((await query(async () => undefined, "@_chat_x:elsewhere.org")).status).toBe(404);
  });

  it("answers a retryable 503 when Redis or the homeserver fails for now, never M_NOT_FOUND", async () => {
    for (const failure of [new Error("Connection is closed."), new MatrixError({ errcode: "M_UNKNOWN" }, 502), new MatrixError({ errcode: "M_LIMIT_EXCEEDED" }, 429)]) {
      const r = await query(async () => { throw failure; });
      expect(r.status, String(failure)).toBe(503);
      expect(r.body.errcode).not.toBe("M_NOT_FOUND");
    }
  });

  it("answers M_NOT_FOUND when the homeserver refuses the puppet for good", async () => {
    const r = await query(async () => { throw new MatrixError({ errcode: "M_EXCLUSIVE" }, 400); });
    expect([r.status, r.body.errcode]).toEqual([404, "M_NOT_FOUND"]);
  });
});
