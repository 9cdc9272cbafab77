export * from "./kubeconfig.js";
export * from "./resilient-informer.js";
export * from "./token-review.js";
