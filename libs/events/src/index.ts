export * from "./asyncapi.js";
export * from "./content-id.js";
export * from "./envelope.js";
export * from "./registry.js";
export * from "./subject-token.js";
export * from "./subjects.js";
export * from "./types/index.js";
