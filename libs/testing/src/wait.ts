/** Poll until cond holds; rejects naming what was awaited after `ms`. */
export function waitFor(cond: () => boolean | Promise<boolean>, ms = 30_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      try {
        if (await cond()) return resolve();
      } catch {
        // not yet
      }
      if (Date.now() > end) return reject(new Error(`${what} not met in ${ms} ms`));
      setTimeout(tick, 20);
    };
    void tick();
  });
}
