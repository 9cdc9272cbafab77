import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeSotwRequest, encodeDeltaBody, encodeSotwBody, TYPE, toAny, withNonce, xdsRoot } from "../src/index.js";

// The hand-written codec of the push hot path, checked against protobufjs (what grpc-js and
// every other client decode with) on arbitrary inputs.
const request = xdsRoot().lookupType("envoy.service.discovery.v3.DiscoveryRequest");
const response = xdsRoot().lookupType("envoy.service.discovery.v3.DiscoveryResponse");
const deltaResponse = xdsRoot().lookupType("envoy.service.discovery.v3.DeltaDiscoveryResponse");
const text = fc.string({ unit: "grapheme", maxLength: 40 });

describe("xDS wire codec", () => {
  it("decodes DiscoveryRequests as protobufjs encodes them, names kept raw until asked for", () => {
    fc.assert(
      fc.property(
        text,
        fc.array(text, { maxLength: 30 }),
        text,
        text,
        fc.option(fc.record({ code: fc.integer({ min: 0, max: 16 }), message: text })),
        (version, names, type, nonce, err) => {
          const msg = {
            version_info: version,
            node: { id: "sidecar~10.0.0.1~a.default~default.svc.cluster.local", user_agent_name: "gRPC Node Pure JS" },
            resource_names: names,
            type_url: type,
            response_nonce: nonce,
            ...(err ? { error_detail: err } : {}),
          };
          const buf = Buffer.from(request.encode(request.fromObject(msg)).finish());
          const got = decodeSotwRequest(buf);
          expect(got.version_info).toBe(version);
          expect(got.type_url).toBe(type);
          expect(got.response_nonce).toBe(nonce);
          expect(got.resource_names.decode()).toEqual(names);
          expect(got.node?.id).toBe(msg.node.id);
          expect(got.error_detail).toEqual(err && (err.code || err.message) ? err : err ? { code: 0, message: "" } : undefined);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("equal name lists have equal raw bytes, different ones do not", () => {
    const enc = (names: string[]) =>
      decodeSotwRequest(Buffer.from(request.encode(request.fromObject({ resource_names: names, type_url: TYPE.endpoint })).finish()));
    expect(enc(["a", "b"]).resource_names.raw.equals(enc(["a", "b"]).resource_names.raw)).toBe(true);
    expect(enc(["a", "b"]).resource_names.raw.equals(enc(["a", "c"]).resource_names.raw)).toBe(false);
  });

  it("refuses malformed requests with a reason", () => {
    expect(() => decodeSotwRequest(Buffer.from([0x0a, 0x05, 0x61]))).toThrow(/truncated/);
    expect(() => decodeSotwRequest(Buffer.from([0x0b]))).toThrow(/wire type/);
  });

  it("encodes DiscoveryResponses and DeltaDiscoveryResponses that protobufjs reads back", () => {
    const any = toAny("envoy.config.endpoint.v3.ClusterLoadAssignment", { cluster_name: "outbound|80||a.default.svc.cluster.local" });
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 3 }), text, fc.array(text, { maxLength: 3 }), (version, count, nonce, removed) => {
        const resources = Array.from({ length: count }, () => any);
        const sotw = response.toObject(response.decode(withNonce(encodeSotwBody(version, resources, TYPE.endpoint), nonce)), { defaults: false });
        expect(sotw).toMatchObject({ ...(version ? { version_info: version } : {}), type_url: TYPE.endpoint, ...(nonce ? { nonce } : {}) });
        expect((sotw.resources ?? []).length).toBe(count);
        const delta = deltaResponse.toObject(
          deltaResponse.decode(
            withNonce(
              encodeDeltaBody(
                version,
                resources.map((resource, i) => ({ name: `r${i}`, version: `v${i}`, resource })),
                TYPE.endpoint,
                removed,
              ),
              nonce,
            ),
          ),
          { defaults: false },
        );
        expect((delta.resources ?? []).map((r: { name: string; version: string }) => `${r.name}@${r.version}`)).toEqual(resources.map((_, i) => `r${i}@v${i}`));
        expect(delta.removed_resources ?? []).toEqual(removed);
        if (count) expect(Buffer.from(delta.resources[0].resource.value).equals(any.value)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
