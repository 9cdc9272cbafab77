import { type AnyMessage, formatViolation, type ResourceInput, validateXds } from "@isthmus/xds";

type Resources = Iterable<AnyMessage> | ReadonlyMap<string, ReadonlyMap<string, ResourceInput>>;

const anys = (r: Resources): AnyMessage[] =>
  r instanceof Map
    ? [...(r as ReadonlyMap<string, ReadonlyMap<string, ResourceInput>>).values()].flatMap((m) => [...m.values()].map((x) => x.build()))
    : [...(r as Iterable<AnyMessage>)];

/**
 * Fails (throws) when any resource breaks a rule Envoy enforces, listing every violation
 * with its resource and field path. Takes pushed resources or a translation's output.
 * `references: false` for a partial set (a client's subscription), where a name a resource
 * refers to may not have been asked for yet.
 */
export function expectValidXds(resources: Resources, o: { references?: boolean } = {}): void {
  const list = anys(resources);
  const errors = validateXds(list, o).filter((v) => v.severity === "error");
  if (errors.length) throw new Error(`${errors.length} Envoy constraint violation(s) in ${list.length} resources:\n${errors.map(formatViolation).join("\n")}`);
}
