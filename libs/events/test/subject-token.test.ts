import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeToken, encodeToken, parseSubject, subjectFor } from "../src/index.js";

const NATS_TOKEN = /^[^\s.*>]+$/;

describe("subject token encoding", () => {
  it("round-trips every string, including lone surrogates, and yields a valid NATS token", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }), fc.string()), (s) => {
        const t = encodeToken(s);
        expect(t).toMatch(NATS_TOKEN);
        expect(decodeToken(t)).toBe(s);
      }),
      { numRuns: 5000 },
    );
  });

  it("keeps plain names readable and escapes the rest", () => {
    expect(encodeToken("helloworld")).toBe("helloworld");
    expect(encodeToken("helloworld.default.svc.cluster.local")).toBe("helloworld%2Edefault%2Esvc%2Ecluster%2Elocal");
    expect(encodeToken("a b*>")).toBe("a%20b%2A%3E");
    expect(encodeToken("")).toBe("%");
    expect(encodeToken("é")).toBe("%C3%A9");
  });

  it("rejects tokens that are not in canonical form", () => {
    expect(() => decodeToken("%41")).toThrow(/canonical/);
    expect(() => decodeToken("%2")).toThrow(/bad escape/);
    expect(() => decodeToken("%C3")).toThrow(/truncated/);
    expect(() => decodeToken("a.b")).toThrow(/unencoded/);
  });

  it("builds and parses whole subjects", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary" }), { maxLength: 5 }), (tokens) => {
        const s = subjectFor("mesh-1", "discovery", ...tokens);
        expect(s.split(".").length).toBe(3 + tokens.length);
        expect(parseSubject(s)).toEqual({ mesh: "mesh-1", domain: "discovery", tokens });
      }),
    );
    expect(() => subjectFor("Mesh.1", "ca")).toThrow(/invalid mesh id/);
    expect(() => parseSubject("mesh.m1.nope.x")).toThrow(/unknown domain/);
  });
});
