export type Protocol = "HTTP" | "HTTP2" | "GRPC" | "HTTPS" | "TLS" | "TCP" | "UDP" | "MONGO" | "REDIS" | "MYSQL";

const BY_NAME: Record<string, Protocol> = {
  http: "HTTP",
  http2: "HTTP2",
  h2c: "HTTP2",
  "kubernetes.io/h2c": "HTTP2",
  grpc: "GRPC",
  "grpc-web": "GRPC",
  https: "HTTPS",
  tls: "TLS",
  tcp: "TCP",
  udp: "UDP",
  mongo: "MONGO",
  redis: "REDIS",
  mysql: "MYSQL",
};

/**
 * Istio's protocol selection: `appProtocol` when set, else the port name's prefix
 * (`grpc`, `http-web`, `tcp-db` ...), else TCP (UDP when the port says UDP).
 */
export function selectProtocol(p: { name?: string | undefined; protocol?: string | undefined; appProtocol?: string | undefined }): Protocol {
  if (p.protocol?.toUpperCase() === "UDP") return "UDP";
  const app = p.appProtocol?.toLowerCase();
  if (app && BY_NAME[app]) return BY_NAME[app];
  const prefix = (p.name ?? "").toLowerCase().split("-")[0] ?? "";
  return BY_NAME[prefix] ?? "TCP";
}
