import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";

/** Debian's Chromium (`apt-get install -y chromium`), or CHROMIUM_PATH. Playwright's own downloads are never used. */
export function findChromium(): string | undefined {
  for (const p of [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"]) if (p && existsSync(p)) return p;
  return undefined;
}

/** Why browser tests cannot run here, or undefined when they can. */
export function noChromiumReason(): string | undefined {
  return findChromium() ? undefined : "no Chromium at /usr/bin/chromium (Debian: apt-get install -y chromium; or set CHROMIUM_PATH)";
}

const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Headless system Chromium with a fresh profile directory, removed on close. */
export async function launchChromium(
  o: { width?: number; height?: number; ignoreHTTPSErrors?: boolean } = {},
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const bin = findChromium();
  if (!bin) throw new Error(noChromiumReason());
  // Loaded here, not at the top: every program importing @isthmus/testing (the CLI does) would pay for it.
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "isthmus-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: bin,
    headless: true,
    args: FLAGS,
    viewport: { width: o.width ?? 1400, height: o.height ?? 900 },
    timeout: 60_000,
    ignoreHTTPSErrors: o.ignoreHTTPSErrors ?? false,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
