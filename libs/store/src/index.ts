export * from "./database.js";
export * from "./inbox.js";
export * from "./open.js";
export * from "./outbox.js";
