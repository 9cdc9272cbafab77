import type * as grpc from "@grpc/grpc-js";
import { makeGenericClientConstructor } from "@grpc/grpc-js";
import type { AnyMessage } from "./protos.js";
import { type AdsClient, adsServiceDefinition, xdsRoot } from "./protos.js";

/*
 * ADS messages on the wire, by hand: the hot path of a push to thousands of proxies.
 * - A state-of-the-world ACK repeats every subscribed name (1,000 names is ~45 KB); the
 *   names are kept as raw bytes and only decoded when they differ from the proxy's last list.
 * - A response is the same bytes for every proxy of a view but for its nonce: the shared
 *   part is encoded once and each proxy's response is that plus its nonce field.
 * Everything else (the node, error details, delta requests) goes through protobufjs.
 */

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error("truncated varint");
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 63) throw new Error("varint too long");
    }
  }
  /** Step over a length-delimited field without materialising it. */
  skipBytes(): void {
    const len = this.varint();
    this.pos += len;
    if (this.pos > this.buf.length) throw new Error("truncated field");
  }
  bytes(): Buffer {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.buf.length) throw new Error("truncated field");
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
    if (this.pos > this.buf.length) throw new Error("truncated field");
  }
}

export interface RawNames {
  /** The encoded resource_names fields, byte for byte (equal bytes: equal lists). */
  raw: Buffer;
  decode(): string[];
}

export interface SotwRequest {
  version_info: string;
  node?: Record<string, unknown>;
  type_url: string;
  response_nonce: string;
  resource_names: RawNames;
  error_detail?: { code: number; message: string };
}

function decodeStatus(buf: Buffer): { code: number; message: string } {
  const r = new Reader(buf);
  const out = { code: 0, message: "" };
  while (!r.done) {
    const tag = r.varint();
    if (tag === 0x08) out.code = r.varint() | 0;
    else if (tag === 0x12) out.message = r.bytes().toString("utf8");
    else r.skip(tag & 7);
  }
  return out;
}

function decodeNode(buf: Buffer): Record<string, unknown> {
  const t = xdsRoot().lookupType("envoy.config.core.v3.Node");
  return t.toObject(t.decode(buf), { enums: String, longs: String, defaults: false }) as Record<string, unknown>;
}

const NO_NAMES: RawNames = { raw: Buffer.alloc(0), decode: () => [] };

/** DiscoveryRequest with resource_names left encoded until asked for. Throws on malformed input. */
export function decodeSotwRequest(buf: Buffer): SotwRequest {
  const r = new Reader(buf);
  const out: SotwRequest = { version_info: "", type_url: "", response_nonce: "", resource_names: NO_NAMES };
  const ranges: Array<[number, number]> = [];
  while (!r.done) {
    const start = r.pos;
    const tag = r.varint();
    switch (tag) {
      case 0x0a:
        out.version_info = r.bytes().toString("utf8");
        break;
      case 0x12:
        out.node = decodeNode(r.bytes());
        break;
      case 0x1a: {
        r.skipBytes();
        const last = ranges[ranges.length - 1];
        if (last && last[1] === start) last[1] = r.pos;
        else ranges.push([start, r.pos]);
        break;
      }
      case 0x22:
        out.type_url = r.bytes().toString("utf8");
        break;
      case 0x2a:
        out.response_nonce = r.bytes().toString("utf8");
        break;
      case 0x32:
        out.error_detail = decodeStatus(r.bytes());
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if (ranges.length) {
    const raw = ranges.length === 1 ? buf.subarray(ranges[0]?.[0], ranges[0]?.[1]) : Buffer.concat(ranges.map(([a, b]) => buf.subarray(a, b)));
    out.resource_names = {
      raw,
      decode() {
        const names: string[] = [];
        const nr = new Reader(raw);
        while (!nr.done) {
          nr.varint();
          names.push(nr.bytes().toString("utf8"));
        }
        return names;
      },
    };
  }
  return out;
}

// --- writing ---------------------------------------------------------------------------

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

class Writer {
  private readonly parts: Buffer[] = [];
  length = 0;
  private push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  private header(field: number, len: number): void {
    const b = Buffer.allocUnsafe(varintLength(field << 3) + varintLength(len));
    let i = 0;
    for (let v = (field << 3) | 2; ; ) {
      if (v < 0x80) {
        b[i++] = v;
        break;
      }
      b[i++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    for (let v = len; ; ) {
      if (v < 0x80) {
        b[i++] = v;
        break;
      }
      b[i++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.push(b);
  }
  string(field: number, s: string): this {
    if (!s) return this;
    const b = Buffer.from(s, "utf8");
    this.header(field, b.length);
    this.push(b);
    return this;
  }
  bytes(field: number, b: Buffer): this {
    this.header(field, b.length);
    this.push(b);
    return this;
  }
  message(field: number, w: Writer): this {
    this.header(field, w.length);
    for (const p of w.parts) this.push(p);
    return this;
  }
  finish(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

const anyWriter = (a: AnyMessage) => new Writer().string(1, a.type_url).bytes(2, a.value);

/** The part of a DiscoveryResponse every proxy shares (all but the nonce). */
export function encodeSotwBody(version: string, resources: AnyMessage[], typeUrl: string): Buffer {
  const w = new Writer().string(1, version);
  for (const a of resources) w.message(2, anyWriter(a));
  return w.string(4, typeUrl).finish();
}

/** The part of a DeltaDiscoveryResponse every proxy shares (all but the nonce). */
export function encodeDeltaBody(
  systemVersion: string,
  resources: Array<{ name: string; version: string; resource: AnyMessage }>,
  typeUrl: string,
  removed: string[],
): Buffer {
  const w = new Writer().string(1, systemVersion);
  for (const r of resources) w.message(2, new Writer().string(1, r.version).message(2, anyWriter(r.resource)).string(3, r.name));
  w.string(4, typeUrl);
  for (const n of removed) {
    const b = Buffer.from(n, "utf8");
    w.bytes(6, b);
  }
  return w.finish();
}

/** A response ready for the wire: the shared body and this proxy's nonce (field 5 in both messages). */
export function withNonce(body: Buffer, nonce: string): Buffer {
  return Buffer.concat([body, new Writer().string(5, nonce).finish()]);
}

/**
 * A DiscoveryRequest (state of the world) for clients that ACK often with a long, constant
 * name list: `names` is encoded once (`encodeNames`) and reused in every ACK.
 */
export function encodeNames(names: string[]): Buffer {
  const w = new Writer();
  for (const n of names) w.bytes(3, Buffer.from(n, "utf8"));
  return w.finish();
}

export function encodeSotwRequest(r: { version_info?: string; node?: Buffer; names?: Buffer; type_url: string; response_nonce?: string }): Buffer {
  const w = new Writer().string(1, r.version_info ?? "");
  if (r.node) w.bytes(2, r.node);
  const head = w.finish();
  const tail = new Writer()
    .string(4, r.type_url)
    .string(5, r.response_nonce ?? "")
    .finish();
  return Buffer.concat(r.names ? [head, r.names, tail] : [head, tail]);
}

/** An encoded envoy.config.core.v3.Node, to put in requests built by `encodeSotwRequest`. */
export function encodeNode(node: Record<string, unknown>): Buffer {
  const t = xdsRoot().lookupType("envoy.config.core.v3.Node");
  return Buffer.from(t.encode(t.fromObject(node)).finish());
}

/**
 * The ADS service definition with the hot paths on the hand-written codec: state-of-the-world
 * requests decode lazily; responses given as Buffers go out as they are (objects still work).
 */
export function fastAdsServiceDefinition(): grpc.ServiceDefinition {
  return Object.fromEntries(
    Object.entries(adsServiceDefinition()).map(([name, m]) => {
      const serialize = m.responseSerialize as (v: unknown) => Buffer;
      return [
        name,
        {
          ...m,
          responseSerialize: (v: unknown) => (Buffer.isBuffer(v) ? v : serialize(v)),
          requestSerialize: ((v: unknown) => (Buffer.isBuffer(v) ? v : (m.requestSerialize as (x: unknown) => Buffer)(v))) as grpc.serialize<unknown>,
          ...(name === "StreamAggregatedResources" ? { requestDeserialize: decodeSotwRequest } : {}),
        },
      ];
    }),
  ) as grpc.ServiceDefinition;
}

/** A raw ADS client whose requests may be given pre-encoded (Buffers), for load generators. */
export function fastAdsClient(address: string, creds: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): AdsClient {
  const Ctor = makeGenericClientConstructor(fastAdsServiceDefinition(), "AggregatedDiscoveryService");
  return new Ctor(address, creds, options) as unknown as AdsClient;
}
