export * from "./config.js";
export * from "./domain/access.js";
export * from "./domain/read-model.js";
export * from "./domain/redact.js";
export type * from "./domain/wire.js";
export * from "./service.js";
