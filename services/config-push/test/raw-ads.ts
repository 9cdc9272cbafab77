import type * as grpc from "@grpc/grpc-js";
import { adsClient } from "@isthmus/xds";

export interface RawResponse {
  version_info: string;
  nonce: string;
  type_url: string;
  resources: unknown[];
}

export type RawStream = ReturnType<typeof rawAds>;

/**
 * A raw ADS stream (SotW or delta) to `address`, as a careless or hostile client would
 * drive it: it records what it is sent and how it ends. With `read: false` it never reads.
 */
export function rawAds(address: string, mode: "sotw" | "delta" = "sotw", o: { read?: boolean } = {}) {
  const client = adsClient(address);
  const call = mode === "delta" ? client.DeltaAggregatedResources() : client.StreamAggregatedResources();
  const responses: RawResponse[] = [];
  let ended: { code: number; details: string } | undefined;
  const end = new Promise<{ code: number; details: string }>((resolve) => {
    call.on("error", (e: grpc.ServiceError) => {
      ended = { code: e.code, details: e.details };
      resolve(ended);
    });
    call.on("status", (s: grpc.StatusObject) => {
      ended ??= { code: s.code, details: s.details };
      resolve(ended);
    });
  });
  const read = () => call.on("data", (r: RawResponse) => responses.push(r));
  if (o.read !== false) read();
  return {
    call,
    responses,
    end,
    get ended() {
      return ended;
    },
    read,
    close() {
      call.cancel();
      client.close();
    },
  };
}
