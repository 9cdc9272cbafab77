/**
 * THE WRITE SEAM. The console writes to the mesh only through the config admission path that
 * `isthmus apply` uses (schema validation, analysis, "not supported" messages, optimistic
 * concurrency, who/when on the event). Until that path is wired here, the only writer is the
 * read-only one, and `CONSOLE_WRITE=true` is refused at start instead of being ignored.
 */
export interface ConfigWriter {
  readonly enabled: boolean;
  /** One write request from the browser (method and raw body); the answer goes back as JSON. */
  submit(method: string, body: string): Promise<{ status: number; body: unknown }>;
}

export const readOnlyWriter: ConfigWriter = {
  enabled: false,
  async submit(method) {
    return {
      status: 403,
      body: { error: `the console is read-only: ${method} refused; change the mesh's configuration with \`isthmus apply\` or its config cluster` },
    };
  },
};
