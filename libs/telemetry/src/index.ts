export * from "./health-server.js";
export * from "./logger.js";
export * from "./prometheus.js";
export * from "./telemetry.js";
