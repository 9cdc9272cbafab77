export * from "./certificate.js";
export * from "./csr.js";
export * from "./der.js";
export * from "./extensions.js";
export * from "./keys.js";
export * from "./oids.js";
export * from "./pem.js";
export * from "./spiffe.js";
