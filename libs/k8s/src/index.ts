export * from "./kubeconfig.js";
export * from "./token-review.js";
