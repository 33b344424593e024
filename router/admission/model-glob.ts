// A tenant's model patterns: `*` matches any run of characters (`/` included, since model names
// such as `meta-llama/Llama-3.1-8B-Instruct` contain it), `?` exactly one; everything else is literal.
export class ModelGlob {
  readonly pattern: string;
  readonly #regex: RegExp;

  constructor(pattern: string) {
    this.pattern = pattern;
    const body = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
    this.#regex = new RegExp(`^${body}$`, 's');
  }

  matches(model: string): boolean {
    return this.#regex.test(model);
  }
}
