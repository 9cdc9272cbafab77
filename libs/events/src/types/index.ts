export * from "./ca.js";
export * from "./common.js";
export * from "./config.js";
export * from "./discovery.js";
export * from "./push.js";
export * from "./pvl.js";
