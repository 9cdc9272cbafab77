import * as grpc from "@grpc/grpc-js";
import { grpcBootstrap } from "@isthmus/xds";
import { GreeterClient, greeter, sayHello } from "../demo/helloworld.js";

/** `isthmus demo server`: seed 002's helloworld as a plain gRPC server (what the compose file runs as v1 and v2). */
export async function demoServer(o: { version: string; instance: string; host: string; port: number }): Promise<void> {
  const s = new grpc.Server();
  s.addService(greeter, {
    SayHello: (_call: unknown, cb: grpc.sendUnaryData<{ message: string }>) => cb(null, { message: `Hello version: ${o.version}, instance: ${o.instance}` }),
  });
  const port = await new Promise<number>((r, j) => s.bindAsync(`${o.host}:${o.port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
  process.stdout.write(`helloworld ${o.version} (${o.instance}) on ${o.host}:${port}\n`);
  const stop = () => s.tryShutdown(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

/** `isthmus demo client`: a proxyless gRPC client calling a service through config-push's xDS, printing the answers. */
export async function demoClient(o: { xds: string; target: string; node: string; calls: number; everyMs: number }): Promise<void> {
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG ??= grpcBootstrap({ server: o.xds, nodeId: o.node });
  (await import("@grpc/grpc-js-xds")).register();
  const client = new GreeterClient(`xds:///${o.target}`, grpc.credentials.createInsecure());
  const round = async () => {
    for (let i = 0; i < o.calls; i++) process.stdout.write(`${await sayHello(client).catch((e: Error) => `(error: ${e.message})`)}\n`);
  };
  await round();
  const t = setInterval(() => void round(), o.everyMs);
  const stop = () => {
    clearInterval(t);
    client.close();
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
