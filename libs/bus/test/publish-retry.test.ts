import { testNatsUrl, uniqueMeshId } from "@isthmus/testing";
import { describe, expect, it } from "vitest";
import { Bus, Publisher, PublishUnavailableError, publishBackoffMs, transientPublishFailure } from "../src/index.js";

const named = (name: string, message = "", cause?: unknown) => Object.assign(new Error(message, cause === undefined ? {} : { cause }), { name });

describe("which publish failures are retried with the same message id", () => {
  it("retries a lost leader, a lost ack and a lost connection", () => {
    expect(transientPublishFailure(named("JetStreamNotEnabled"))).toMatch(/no responders/);
    expect(transientPublishFailure(named("RequestError", "", named("NoResponders")))).toMatch(/no responders/);
    expect(transientPublishFailure(named("TimeoutError"))).toMatch(/no acknowledgement/);
    expect(transientPublishFailure(named("ConnectionError", "reset"))).toMatch(/connection to NATS lost \(reset\)/);
    expect(transientPublishFailure(Object.assign(named("JetStreamApiError", "JetStream system temporarily unavailable"), { code: 10008 }))).toMatch(
      /temporarily/,
    );
  });

  it("does not retry what a retry cannot cure", () => {
    expect(transientPublishFailure(named("RequestError", "Permissions Violation", named("PermissionViolationError")))).toBeUndefined();
    expect(transientPublishFailure(named("RequestError", "cancelled"))).toBeUndefined();
    expect(transientPublishFailure(Object.assign(named("JetStreamApiError", "wrong last sequence"), { code: 10071, status: 400 }))).toBeUndefined();
    expect(transientPublishFailure("a string")).toBeUndefined();
  });

  it("backs off with jitter up to a second", () => {
    expect(publishBackoffMs(1, () => 0)).toBe(50);
    expect(publishBackoffMs(1, () => 1)).toBe(100);
    expect(publishBackoffMs(20, () => 1)).toBe(1_000);
  });
});

describe("a publish nobody takes", () => {
  it("is tried once with retryForMs 0, again and again within the deadline otherwise, and fails naming the subject and reason", async () => {
    const bus = await Bus.connect({ servers: testNatsUrl(), waitOnFirstConnect: false });
    const subject = `mesh.${uniqueMeshId("nostream")}.config.x`;
    const once = await new Publisher(bus.js, { retryForMs: 0 }).publishEncoded(subject, new Uint8Array([1]), "m1").catch((e: unknown) => e);
    expect(once).toBeInstanceOf(PublishUnavailableError);
    expect((once as PublishUnavailableError).attempts).toBe(1);
    const retried = await new Publisher(bus.js, { retryForMs: 1_000 }).publishEncoded(subject, new Uint8Array([1]), "m2").catch((e: unknown) => e);
    expect((retried as PublishUnavailableError).attempts).toBeGreaterThan(1);
    expect((retried as Error).message).toContain(`publish to ${subject} (msg id m2) not acknowledged`);
    expect((retried as PublishUnavailableError).reason).toMatch(/no responders/);
    await bus.close();
  });
});
