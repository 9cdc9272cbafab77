import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

/**
 * Wraps CA private keys for storage. The local provider holds one key-encryption key;
 * a KMS-backed provider implements the same two calls.
 */
export interface KeyProvider {
  readonly id: string;
  wrap(plaintext: Buffer, context: string): Promise<string>;
  unwrap(wrapped: string, context: string): Promise<Buffer>;
}

/** AES-256-GCM under a 32-byte key-encryption key; the context is bound as associated data. */
export class LocalKeyProvider implements KeyProvider {
  readonly id = "local";
  constructor(private readonly kek: Buffer) {
    if (kek.length !== 32) throw new Error("the key-encryption key must be 32 bytes (base64 of 32 random bytes)");
  }

  /** From CA_KEK (base64) or CA_KEK_FILE (a file holding the base64 key). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): LocalKeyProvider {
    const b64 = env.CA_KEK ?? (env.CA_KEK_FILE ? readFileSync(env.CA_KEK_FILE, "utf8").trim() : undefined);
    if (!b64) throw new Error("no key-encryption key: set CA_KEK (base64 of 32 bytes) or CA_KEK_FILE; make one with `openssl rand -base64 32`");
    return new LocalKeyProvider(Buffer.from(b64, "base64"));
  }

  async wrap(plaintext: Buffer, context: string): Promise<string> {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.kek, iv);
    c.setAAD(Buffer.from(context));
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    return `local:v1:${iv.toString("base64")}:${c.getAuthTag().toString("base64")}:${ct.toString("base64")}`;
  }

  async unwrap(wrapped: string, context: string): Promise<Buffer> {
    const [scheme, version, iv, tag, ct] = wrapped.split(":");
    if (scheme !== "local" || version !== "v1" || !iv || !tag || !ct) throw new Error("not a key wrapped by the local provider");
    const d = createDecipheriv("aes-256-gcm", this.kek, Buffer.from(iv, "base64"));
    d.setAAD(Buffer.from(context));
    d.setAuthTag(Buffer.from(tag, "base64"));
    try {
      return Buffer.concat([d.update(Buffer.from(ct, "base64")), d.final()]);
    } catch {
      throw new Error("cannot unwrap the CA key: wrong key-encryption key, or the stored key was altered");
    }
  }
}
