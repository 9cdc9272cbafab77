/**
 * Reversible encoding of arbitrary strings into a single NATS subject token.
 *
 * NATS forbids `.`, whitespace and empty tokens, and gives `*` / `>` special meaning,
 * so names like `helloworld.default.svc.cluster.local` cannot be used raw. Everything
 * outside [A-Za-z0-9_-] is written as `%XX` (upper-case hex) over its UTF-8 bytes —
 * the URL percent-encoding that every language can decode. Lone UTF-16 surrogates are
 * encoded as their 3-byte generalised UTF-8 form (WTF-8) so that every JavaScript string
 * round-trips, and the empty string is the lone token `%`.
 */

const SAFE = /^[A-Za-z0-9_-]+$/;
const HEX = "0123456789ABCDEF";

function pushByte(out: string[], b: number): void {
  out.push("%", HEX[b >> 4] as string, HEX[b & 15] as string);
}

export function encodeToken(value: string): string {
  if (value === "") return "%";
  if (SAFE.test(value)) return value;
  const out: string[] = [];
  for (let i = 0; i < value.length; i++) {
    let cp = value.charCodeAt(i);
    if (cp < 0x80) {
      const ch = value[i] as string;
      if ((cp >= 48 && cp <= 57) || (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122) || cp === 45 || cp === 95) out.push(ch);
      else pushByte(out, cp);
      continue;
    }
    // Combine a valid surrogate pair into one code point; a lone surrogate stays as is.
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < value.length) {
      const lo = value.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (cp < 0x800) {
      pushByte(out, 0xc0 | (cp >> 6));
      pushByte(out, 0x80 | (cp & 63));
    } else if (cp < 0x10000) {
      pushByte(out, 0xe0 | (cp >> 12));
      pushByte(out, 0x80 | ((cp >> 6) & 63));
      pushByte(out, 0x80 | (cp & 63));
    } else {
      pushByte(out, 0xf0 | (cp >> 18));
      pushByte(out, 0x80 | ((cp >> 12) & 63));
      pushByte(out, 0x80 | ((cp >> 6) & 63));
      pushByte(out, 0x80 | (cp & 63));
    }
  }
  return out.join("");
}

export class TokenDecodeError extends Error {
  constructor(token: string, why: string) {
    super(`cannot decode subject token ${JSON.stringify(token)}: ${why}`);
    this.name = "TokenDecodeError";
  }
}

function hexAt(token: string, i: number): number {
  const h = token.slice(i, i + 2);
  if (!/^[0-9A-F]{2}$/.test(h)) throw new TokenDecodeError(token, `bad escape at ${i - 1}`);
  return Number.parseInt(h, 16);
}

export function decodeToken(token: string): string {
  if (token === "%") return "";
  if (token === "") throw new TokenDecodeError(token, "empty token");
  if (!token.includes("%")) {
    if (!SAFE.test(token)) throw new TokenDecodeError(token, "unencoded character");
    return token;
  }
  const bytes: number[] = [];
  let out = "";
  const flush = () => {
    let i = 0;
    while (i < bytes.length) {
      const b0 = bytes[i] as number;
      const need = b0 < 0x80 ? 0 : b0 >= 0xf0 ? 3 : b0 >= 0xe0 ? 2 : b0 >= 0xc0 ? 1 : -1;
      if (need < 0) throw new TokenDecodeError(token, "invalid UTF-8 lead byte");
      if (i + need >= bytes.length) throw new TokenDecodeError(token, "truncated UTF-8 sequence");
      let cp = need === 0 ? b0 : b0 & (0x3f >> need);
      for (let k = 1; k <= need; k++) {
        const b = bytes[i + k] as number;
        if ((b & 0xc0) !== 0x80) throw new TokenDecodeError(token, "invalid UTF-8 continuation");
        cp = (cp << 6) | (b & 63);
      }
      if (cp > 0x10ffff) throw new TokenDecodeError(token, "code point out of range");
      out += String.fromCodePoint(cp);
      i += need + 1;
    }
  };
  for (let i = 0; i < token.length; i++) {
    const ch = token[i] as string;
    if (ch === "%") {
      bytes.push(hexAt(token, i + 1));
      i += 2;
    } else {
      if (!SAFE.test(ch)) throw new TokenDecodeError(token, `unencoded character ${JSON.stringify(ch)}`);
      bytes.push(ch.charCodeAt(0));
    }
  }
  flush();
  // One string, one token: reject escapes the encoder would never write (e.g. `%41`).
  if (encodeToken(out) !== token) throw new TokenDecodeError(token, "not in canonical form");
  return out;
}
