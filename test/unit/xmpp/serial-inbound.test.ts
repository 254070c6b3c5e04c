import { afterEach, describe, expect, it, vi } from "vitest";
import { SerialInbound } from "../../../adapters/xmpp/serial-inbound.js";

afterEach(() => { vi.useRealTimers(); });

describe("XMPP inbound backlog at a graceful stop (issue 10)", () => {
  it("keeps one conversation's tasks in order and drains a backlog longer than the stall limit while it progresses", async () => {
    vi.useFakeTimers();
    const inbound = new SerialInbound();
    const stored: number[] = [];
    for (let i = 0; i < 30; i++) inbound.run("a>b", () => new Promise<void>((r) => setTimeout(() => { stored.push(i); r(); }, 200)));
    const drained = inbound.drain(2_000);
    await vi.advanceTimersByTimeAsync(30 * 200);
    expect(await drained).toBe(0);
    expect(stored).toEqual([...Array(30).keys()]);
  });

  it("gives up and counts the waiting conversations when no task finishes within the stall limit", async () => {
    vi.useFakeTimers();
    const inbound = new SerialInbound();
    inbound.run("a>b", () => new Promise<void>(() => undefined));
    inbound.run("c>d", async () => undefined);
    const drained = inbound.drain(2_000);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(await drained).toBe(1);
  });
});
