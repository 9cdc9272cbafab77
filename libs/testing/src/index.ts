export * from "./database.js";
export * from "./environment.js";
export * from "./free-port.js";
export * from "./mesh-fixture.js";
export * from "./nats.js";
export * from "./nats-server.js";
export * from "./tcp.js";
export * from "./wait.js";
