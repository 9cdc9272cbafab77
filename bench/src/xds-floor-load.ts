import { type ClientHttp2Session, connect, constants as h2 } from "node:http2";
import { grpcFrame } from "./xds-floor.js";

// The floor's load generator, in its own process: N gRPC-framed streams over a few raw
// HTTP/2 connections; each sends a 100-byte request and answers every message it gets
// with a 100-byte one.
const REQUEST = grpcFrame(100);

process.once("message", (m: { port: number; n: number; connections: number }) => {
  const sessions: ClientHttp2Session[] = Array.from({ length: m.connections }, () =>
    connect(`http://127.0.0.1:${m.port}`, { settings: { initialWindowSize: 1 << 20 }, peerMaxConcurrentStreams: 1_000_000 }),
  );
  for (const s of sessions) s.on("error", () => {});
  for (let i = 0; i < m.n; i++) {
    const stream = (sessions[i % m.connections] as ClientHttp2Session).request({
      [h2.HTTP2_HEADER_METHOD]: "POST",
      [h2.HTTP2_HEADER_PATH]: "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources",
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.on("data", () => stream.write(REQUEST));
    stream.on("error", () => {});
    stream.write(REQUEST);
  }
  process.on("message", (cmd: { stop?: boolean }) => {
    if (!cmd.stop) return;
    for (const s of sessions) s.destroy();
    process.exit(0);
  });
});
