import { type BusLogger, type Publisher, silentLogger } from "@isthmus/bus";
import { buildEvent, type ConfigKindKey, configKinds, configTranslationV1, contentId, transitionId } from "@isthmus/events";
import type { ConfigProblem } from "../domain/translate.js";

/**
 * What the translation could not honour, per configuration object, on the PUSH stream
 * (`push.config.<kind>.<ns>.<name>`): `isthmus get` and `isthmus analyze` show it next to
 * the object. Published when an object's problems change, including when they go away.
 */
type TranslationKey = { kind: ConfigKindKey; namespace: string; name: string };

export class TranslationStatus {
  private readonly published = new Map<string, { msgId: string; content: string; key: TranslationKey }>();

  constructor(
    private readonly mesh: string,
    private readonly publisher: Publisher,
    private readonly instance: string,
    private readonly log: BusLogger = silentLogger,
  ) {}

  report(problems: readonly ConfigProblem[]): void {
    const byObject = new Map<string, { key: TranslationKey; reasons: Set<string> }>();
    for (const p of problems) {
      if (!p.object || !(configKinds as readonly string[]).includes(p.object.kind)) continue;
      const key = { ...p.object, kind: p.object.kind as ConfigKindKey };
      const id = `${key.kind}/${key.namespace}/${key.name}`;
      const entry = byObject.get(id) ?? { key, reasons: new Set<string>() };
      entry.reasons.add(p.reason);
      byObject.set(id, entry);
    }
    const seen = new Set<string>();
    for (const { key, reasons } of byObject.values()) {
      const ev = buildEvent(
        configTranslationV1,
        this.mesh,
        {
          ...key,
          problems: [...reasons].sort().map((r) => ({ code: "ISM0010", name: "TranslationSkipped", level: "Error" as const, message: r.slice(0, 4096) })),
        },
        { source: this.instance },
      );
      seen.add(ev.subject);
      this.publish(key, ev.subject, ev.event);
    }
    for (const [subject, prev] of this.published) {
      if (seen.has(subject) || !prev.content) continue;
      const ev = buildEvent(configTranslationV1, this.mesh, { ...prev.key, problems: [] }, { source: this.instance });
      this.publish(prev.key, ev.subject, ev.event, "");
    }
  }

  /** `content` "" marks a cleared status (nothing to say), so it is sent once. */
  private publish(
    key: TranslationKey,
    subject: string,
    event: Parameters<Publisher["publish"]>[1],
    content = contentId(configTranslationV1.type, subject, event.data),
  ): void {
    const prev = this.published.get(subject);
    if (prev?.content === content) return;
    const msgId = transitionId(prev?.msgId, content || "clear");
    this.published.set(subject, { msgId, content, key });
    this.publisher.publish(subject, event, { msgId }).catch((err) => this.log.warn({ subject, err: String(err) }, "translation status not published"));
  }
}
