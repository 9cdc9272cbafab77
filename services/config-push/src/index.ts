export * from "./adapters/ads-server.js";
export * from "./adapters/config-watcher.js";
export * from "./config.js";
export * from "./domain/mesh-model.js";
export * from "./domain/sync-state.js";
export * from "./domain/traffic.js";
export * from "./domain/translate.js";
export * from "./service.js";
