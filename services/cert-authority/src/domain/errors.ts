/** gRPC status names the CA answers with; the NATS responder uses the same names. */
export type CaStatus = "INVALID_ARGUMENT" | "UNAUTHENTICATED" | "PERMISSION_DENIED" | "UNAVAILABLE" | "RESOURCE_EXHAUSTED" | "FAILED_PRECONDITION" | "INTERNAL";

export class CaError extends Error {
  override name = "CaError";
  constructor(
    readonly status: CaStatus,
    message: string,
  ) {
    super(message);
  }
}
