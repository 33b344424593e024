// API keys: where each protocol carries one, and the lookup of a presented key among the configured
// ones. Keys are configured only as sha256 digests, so the config, the process and its dumps never
// hold a usable key.
//
// Why the lookup is safe against timing: the presented key is hashed first, and only its digest is
// ever compared. The Map lookup on the digest's hex may return early on a mismatching character, but
// what that could reveal is how much of sha256(guess) matches a stored digest — which does not help
// find a key with that digest (sha256 is preimage resistant), and the guess's own bytes are never
// compared with anything. The final comparison of the full digests uses crypto.timingSafeEqual, and a
// miss is compared against a fixed digest so hits and misses do the same work.
import { createHash, timingSafeEqual } from 'node:crypto';

/** Where a key arrives: OpenAI clients send only `Authorization: Bearer`; V2 REST and gRPC also accept the configured header. */
export type KeyProtocol = 'openai' | 'kserve-rest' | 'kserve-grpc' | 'admin';

export type Headers = Readonly<Record<string, string | string[] | undefined>>;

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const MISS = Buffer.alloc(32);

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The API key a request presents, or undefined. Header names are lower case (Node and HTTP/2 give them so). */
export function extractApiKey(headers: Headers, protocol: KeyProtocol, headerName: string): string | undefined {
  const bearer = BEARER.exec(first(headers.authorization) ?? '')?.[1];
  if (bearer !== undefined || protocol === 'openai' || protocol === 'admin') return bearer;
  const value = first(headers[headerName])?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** sha256 of the key's UTF-8 bytes: what `printf %s "$KEY" | sha256sum` prints, as bytes. */
export function keyDigest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Configured key digests (64 hex) → what each key stands for (a tenant, or admin access). */
export class ApiKeyAuth<T> {
  readonly #byDigest = new Map<string, { readonly digest: Buffer; readonly value: T }>();

  constructor(entries: Iterable<readonly [sha256Hex: string, value: T]>) {
    for (const [hex, value] of entries) {
      const digest = Buffer.from(hex, 'hex');
      if (digest.length !== 32) throw new RangeError('a key digest must be 64 hex digits');
      this.#byDigest.set(digest.toString('hex'), { digest, value });
    }
  }

  get size(): number {
    return this.#byDigest.size;
  }

  /** What `key` stands for, or undefined for a missing or unknown key. */
  lookup(key: string | undefined): T | undefined {
    if (key === undefined || key === '') return undefined;
    const digest = keyDigest(key);
    const entry = this.#byDigest.get(digest.toString('hex'));
    const same = timingSafeEqual(digest, entry?.digest ?? MISS);
    return entry !== undefined && same ? entry.value : undefined;
  }
}
