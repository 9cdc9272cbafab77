import * as grpc from "@grpc/grpc-js";

// Seed 002's helloworld, as a gRPC service without a .proto (JSON on the wire).
const json = { serialize: (o: unknown) => Buffer.from(JSON.stringify(o)), deserialize: (b: Buffer) => JSON.parse(b.toString()) };
export const greeter: grpc.ServiceDefinition = {
  SayHello: {
    path: "/helloworld.Greeter/SayHello",
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};

/** Answers "Hello version: <v>, instance: <name>" — or always fails UNAVAILABLE, for fault tests. */
export async function helloworldServer(
  version: string,
  instance: string,
  o: { failing?: boolean } = {},
): Promise<{ port: number; stop(): void; calls: () => number }> {
  const s = new grpc.Server();
  let calls = 0;
  s.addService(greeter, {
    SayHello: (_call: unknown, cb: grpc.sendUnaryData<{ message: string }>) => {
      calls++;
      if (o.failing) cb({ code: grpc.status.UNAVAILABLE, details: `${instance} is broken` });
      else cb(null, { message: `Hello version: ${version}, instance: ${instance}` });
    },
  });
  const port = await new Promise<number>((r, j) => s.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
  return { port, stop: () => s.forceShutdown(), calls: () => calls };
}

export const GreeterClient = grpc.makeGenericClientConstructor(greeter, "Greeter");

export function sayHello(client: grpc.Client): Promise<string> {
  return new Promise((resolve, reject) =>
    (client as unknown as { SayHello: (req: unknown, opts: unknown, cb: (e: Error | null, r: { message: string }) => void) => void }).SayHello(
      { name: "isthmus" },
      { deadline: Date.now() + 5_000 },
      (e, r) => (e ? reject(e) : resolve(r.message)),
    ),
  );
}

/** A manifest-directory cluster holding helloworld at 127.0.0.1:<port>. */
export function helloworldManifest(version: string, port: number): string {
  return [
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "helloworld", namespace: "default", labels: { app: "helloworld" } },
      spec: { ports: [{ name: "grpc", port: 5000, targetPort: port }] },
    },
    {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: `helloworld-${version}`, namespace: "default", labels: { "kubernetes.io/service-name": "helloworld" } },
      addressType: "IPv4",
      ports: [{ name: "grpc", port, protocol: "TCP" }],
      endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true }, targetRef: { kind: "Pod", name: `helloworld-${version}-0`, namespace: "default" } }],
    },
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `helloworld-${version}-0`, namespace: "default", labels: { app: "helloworld", version } },
      spec: { serviceAccountName: "helloworld" },
    },
  ]
    .map((o) => JSON.stringify(o))
    .join("\n---\n");
}
