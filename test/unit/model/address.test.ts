import { describe, expect, it } from "vitest";
import { canonicalAddress, domainOf, localOf, parseAddress } from "../../../src/model/address.js";

describe("canonical addresses (T-3.1.2)", () => {
  it("T-3.1.2 normalises domains (case, trailing dot, IDNA) and keeps local parts", () => {
    expect(canonicalAddress("Alice@Chat.Example.ORG.")).toBe("Alice@chat.example.org");
    expect(canonicalAddress("im:bob@bücher.example")).toBe("bob@xn--bcher-kva.example");
    const a = canonicalAddress("a@b@example.org");
    expect(localOf(a)).toBe("a@b");
    expect(domainOf(a)).toBe("example.org");
  });

  it("T-3.1.2 refuses what is not an address, saying why", () => {
    expect(() => parseAddress("nobody")).toThrow(/local@domain/);
    expect(() => parseAddress("a b@example.org")).toThrow(/white space/);
    expect(() => parseAddress("a@exa_mple.org")).toThrow(/invalid label/);
  });
});
