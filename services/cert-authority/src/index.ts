export * from "./adapters/ca-store.js";
export { caServiceDefinition, loadCaProto, MAX_REQUEST_BYTES } from "./adapters/grpc-server.js";
export * from "./adapters/key-provider.js";
export { createCertificateSubject, type NatsCaReply } from "./adapters/nats-responder.js";
export * from "./admin.js";
export * from "./config.js";
export * from "./domain/errors.js";
export * from "./domain/validity.js";
export * from "./service.js";
