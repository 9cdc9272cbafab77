const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * How the local stack stops: every part registered as it starts, stopped last-started
 * first on SIGINT/SIGTERM — also when the signal comes in the middle of starting — within a
 * deadline, so Ctrl-C or a supervisor's SIGTERM is answered in seconds. A part that does
 * not stop in its share of the time is named and left to the process's exit; a second
 * signal exits at once, after the last-registered stops (NATS) have been given their kill.
 */
export class StackStopper {
  private readonly steps: Array<{ name: string; run: () => Promise<void> | void }> = [];
  private stopping: Promise<void> | undefined;
  private signalled: (() => void) | undefined;
  /** Resolves on the first SIGINT or SIGTERM. */
  readonly interrupted: Promise<void>;

  constructor(
    private readonly say: (s: string) => void,
    private readonly deadlineMs = 3_000,
  ) {
    this.interrupted = new Promise((r) => {
      this.signalled = r;
    });
    let signals = 0;
    const on = () => {
      signals++;
      if (signals === 1) this.signalled?.();
      else process.exit(130);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  }

  get requested(): boolean {
    return this.stopping !== undefined;
  }

  /** Register a part; one started after the stop began is stopped at once. */
  add(name: string, run: () => Promise<void> | void): void {
    if (this.stopping) {
      void Promise.resolve()
        .then(run)
        .catch(() => {});
      return;
    }
    this.steps.push({ name, run });
  }

  /** Stop everything (once), newest first. Each part gets what is left of the deadline, at least 200 ms. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const end = Date.now() + this.deadlineMs;
      for (const s of this.steps.reverse()) {
        const finished = Promise.resolve()
          .then(s.run)
          .then(
            () => true,
            () => true,
          );
        const inTime = await Promise.race([finished, sleep(Math.max(200, end - Date.now())).then(() => false)]);
        if (!inTime) this.say(`  ${s.name} did not stop in time; left to the exit`);
      }
    })();
    return this.stopping;
  }
}
