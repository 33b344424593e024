// The one hash the scheduler uses for ring points and keys: FNV-1a 32 over the string's UTF-8 bytes
// (each UTF-16 code unit encoded on its own, so a lone surrogate hashes too), then the MurmurHash3 finaliser. FNV-1a alone is fast but barely avalanches on similar strings
// ("10.0.0.5:8001" vs "10.0.0.6:8001"); the finaliser spreads them evenly over the ring.
// Not cryptographic: a client choosing keys can pick its endpoint, which is all a sticky key allows anyway.

/** MurmurHash3's fmix32: a bijection on 32-bit integers with full avalanche. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a 32 (offset basis 2166136261, prime 16777619) of the string, finalised by mix32. Unsigned. */
export function hashString(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0x80) {
      h = Math.imul(h ^ unit, 0x01000193);
    } else if (unit < 0x800) {
      h = Math.imul(h ^ (0xc0 | (unit >>> 6)), 0x01000193);
      h = Math.imul(h ^ (0x80 | (unit & 0x3f)), 0x01000193);
    } else {
      h = Math.imul(h ^ (0xe0 | (unit >>> 12)), 0x01000193);
      h = Math.imul(h ^ (0x80 | ((unit >>> 6) & 0x3f)), 0x01000193);
      h = Math.imul(h ^ (0x80 | (unit & 0x3f)), 0x01000193);
    }
  }
  return mix32(h);
}
