import * as grpc from "@grpc/grpc-js";

// A helloworld Greeter without a .proto: JSON on the wire is enough for a demo service.
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

/** Seed 002's helloworld: answers "Hello version: <v>, instance: <name>" (or always fails, for fault tests). */
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
