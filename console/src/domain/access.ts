/** How the console is reached, decided before it listens. */
export interface AccessOptions {
  host: string;
  /** A login token; required whenever the console listens beyond loopback. */
  token?: string;
  tls?: { certFile: string; keyFile: string };
  /** Listen beyond loopback without a token (only behind something that authenticates, e.g. a port published on 127.0.0.1). */
  allowNoAuth?: boolean;
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Why these access options are refused, or undefined when they are acceptable. */
export function accessProblem(o: AccessOptions): string | undefined {
  if (o.token !== undefined && o.token.length < 16) return "CONSOLE_TOKEN must be at least 16 characters";
  if (!isLoopback(o.host) && !o.token && !o.allowNoAuth) {
    return `the console listens on ${o.host}, beyond loopback, without a login token: set CONSOLE_TOKEN (and CONSOLE_TLS_CERT/CONSOLE_TLS_KEY), or CONSOLE_ALLOW_NO_AUTH=true when only a loopback-published port reaches it`;
  }
  return undefined;
}

/**
 * Host headers a console without a token answers: its loopback names only, so a web page
 * elsewhere cannot read it through DNS rebinding.
 */
export function hostAllowed(hostHeader: string | undefined, o: AccessOptions): boolean {
  if (o.token || o.allowNoAuth) return true;
  if (!hostHeader) return false;
  const h = hostHeader.startsWith("[") ? hostHeader.slice(0, hostHeader.indexOf("]") + 1) : (hostHeader.split(":")[0] ?? "");
  return isLoopback(h);
}
