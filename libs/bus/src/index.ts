export * from "./connect.js";
export * from "./dead-letter.js";
export * from "./durable-consumer.js";
export * from "./logger.js";
export * from "./publisher.js";
export * from "./state-reader.js";
export * from "./streams.js";
export * from "./trace.js";
