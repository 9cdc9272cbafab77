import { z } from "zod";
import { cloudEventSchema } from "./envelope.js";
import { type EventDef, eventDefs, TOMBSTONE_TYPE, tombstoneDataSchema } from "./registry.js";

type Json = Record<string, unknown>;

function messageName(type: string): string {
  // io.isthmus.discovery.service_state.v1 -> discovery.service_state.v1
  return type.replace(/^io\.isthmus\./, "");
}

function jsonSchema(schema: z.ZodType): Json {
  const s = z.toJSONSchema(schema, { target: "draft-7", io: "input", unrepresentable: "any" }) as Json;
  delete s.$schema;
  return s;
}

function envelopeFor(type: string, data: z.ZodType): Json {
  const env = jsonSchema(cloudEventSchema.omit({ data: true }));
  const props = { ...(env.properties as Json), type: { const: type }, data: jsonSchema(data) };
  return { ...env, properties: props, required: [...((env.required as string[]) ?? []), "data"] };
}

function channelFor(def: EventDef): Json {
  const params: Json = { mesh: { description: "mesh id (a DNS label, written raw)" } };
  const address = ["mesh", "{mesh}", def.domain];
  for (const t of def.path) {
    if (t.startsWith(":")) {
      params[t.slice(1)] = { description: "percent-encoded subject token (see x-isthmus-token-encoding)" };
      address.push(`{${t.slice(1)}}`);
    } else address.push(t);
  }
  return {
    address: address.join("."),
    description: def.description,
    parameters: params,
    messages: {
      [messageName(def.type)]: { $ref: `#/components/messages/${messageName(def.type)}` },
      ...(def.kind === "state" ? { tombstone: { $ref: "#/components/messages/tombstone.v1" } } : {}),
    },
    "x-isthmus-stream": `${def.domain.toUpperCase()}_{mesh}`,
    "x-isthmus-kind": def.kind,
  };
}

/** AsyncAPI 3.0 document of every registered event type: what tools in any language subscribe to. */
export function asyncApiDocument(): Json {
  const channels: Json = {};
  const operations: Json = {};
  const messages: Json = {
    "tombstone.v1": {
      name: "tombstone.v1",
      title: TOMBSTONE_TYPE,
      summary: "Deletes the state entity on whose subject it is published.",
      contentType: "application/cloudevents+json",
      payload: envelopeFor(TOMBSTONE_TYPE, tombstoneDataSchema),
    },
  };
  for (const def of eventDefs()) {
    const name = messageName(def.type);
    channels[name] = channelFor(def);
    messages[name] = {
      name,
      title: def.type,
      summary: def.description,
      contentType: "application/cloudevents+json",
      headers: {
        type: "object",
        properties: {
          "Nats-Msg-Id": { type: "string", description: "event id, or a content hash for state snapshots" },
          traceparent: { type: "string", description: "W3C trace context" },
        },
      },
      payload: envelopeFor(def.type, def.schema),
    };
    operations[`receive.${name}`] = {
      action: "receive",
      channel: { $ref: `#/channels/${name}` },
      messages: [{ $ref: `#/channels/${name}/messages/${name}` }],
    };
  }
  return {
    asyncapi: "3.0.0",
    info: {
      title: "Isthmus events",
      version: "1.0.0",
      description:
        "Events published by the Isthmus control plane on NATS JetStream. Every message is a CloudEvents 1.0 structured JSON envelope; the event type carries its version.",
    },
    defaultContentType: "application/cloudevents+json",
    "x-isthmus-token-encoding": "Subject tokens keep [A-Za-z0-9_-]; every other byte of the UTF-8 form is %XX (upper-case hex); the empty string is '%'.",
    channels,
    operations,
    components: { messages },
  };
}

export function asyncApiJson(): string {
  return `${JSON.stringify(asyncApiDocument(), null, 2)}\n`;
}
