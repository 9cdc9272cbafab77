export * from "./cache.js";
export * from "./protos.js";
export * from "./resources/cluster.js";
export * from "./resources/endpoint.js";
export * from "./resources/listener.js";
export * from "./resources/route.js";
export * from "./resources/type-urls.js";
