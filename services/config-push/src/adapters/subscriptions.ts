export interface Subscription {
  id: number;
  names: Set<string>;
  /** The names as they came on the wire (state of the world), to recognise the same list without decoding it. */
  raw?: Buffer;
}

/**
 * Subscriptions are mostly identical across proxies (every sidecar of a namespace asks for
 * the same clusters): one shared, frozen set per distinct list instead of a copy per proxy.
 * Unused entries are dropped when their last proxy goes.
 */
export class SubscriptionSets {
  private readonly byKey = new Map<string, Subscription & { users: number; key: string }>();
  private next = 0;

  private get(key: string, make: () => Subscription): Subscription {
    let s = this.byKey.get(key);
    if (!s) {
      s = { ...make(), users: 0, key };
      this.byKey.set(key, s);
    }
    s.users++;
    return s;
  }

  /** Keyed in the order given: proxies of one kind list their names in the same order. */
  intern(names: string[]): Subscription {
    return this.get(`n${names.join("\n")}`, () => ({ id: ++this.next, names: new Set(names) }));
  }

  internRaw(raw: Buffer, decode: () => string[]): Subscription {
    return this.get(`r${raw.toString("latin1")}`, () => ({ id: ++this.next, names: new Set(decode()), raw: Buffer.from(raw) }));
  }

  release(s: Subscription | undefined): void {
    const e = s as (Subscription & { users: number; key: string }) | undefined;
    if (e && --e.users <= 0 && this.byKey.get(e.key) === e) this.byKey.delete(e.key);
  }

  get size(): number {
    return this.byKey.size;
  }
}
