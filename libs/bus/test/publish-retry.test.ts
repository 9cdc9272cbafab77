import { describe, expect, it } from "vitest";
import { publishBackoffMs, transientPublishFailure } from "../src/index.js";

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
