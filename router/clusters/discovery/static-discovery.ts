// A fixed endpoint list from config: reported once, synchronously, so a static cluster is complete
// as soon as it starts.
import type { Discovery } from './discovery.js';

export class StaticDiscovery implements Discovery {
  readonly #addresses: readonly string[];

  constructor(addresses: readonly string[]) {
    this.#addresses = Object.freeze([...new Set(addresses)]);
  }

  start(onChange: (addresses: readonly string[]) => void): void {
    onChange(this.#addresses);
  }

  stop(): void {}
}
