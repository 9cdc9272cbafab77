export * from "./adapters/registry.js";
export * from "./config.js";
export * from "./domain/model.js";
export * from "./domain/protocol.js";
export * from "./domain/service-entry.js";
export * from "./domain/translate.js";
export * from "./service.js";
