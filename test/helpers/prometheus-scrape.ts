// A small reader of the Prometheus text exposition format (what /metrics answers), for tests that
// assert exact counter deltas and histogram counts. Handles HELP/TYPE comments, labels with escaped
// values, and the special values +Inf/-Inf/NaN; ignores timestamps.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export class Scrape {
  readonly samples: readonly Sample[];
  /** `# TYPE` of each metric family. */
  readonly types: ReadonlyMap<string, string>;

  constructor(text: string) {
    const samples: Sample[] = [];
    const types = new Map<string, string>();
    for (const line of text.split('\n')) {
      if (line.startsWith('# TYPE ')) {
        const [, , name, type] = line.split(' ');
        if (name !== undefined && type !== undefined) types.set(name, type);
        continue;
      }
      if (line === '' || line.startsWith('#')) continue;
      samples.push(parseSample(line));
    }
    this.samples = samples;
    this.types = types;
  }

  /** Samples named `name` whose labels include every one of `labels`. */
  select(name: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The sum of the matching samples' values (0 when none match). */
  value(name: string, labels: Readonly<Record<string, string>> = {}): number {
    return this.select(name, labels).reduce((sum, s) => sum + s.value, 0);
  }

  /** A histogram's `_count` (summed over matching series). */
  count(name: string, labels: Readonly<Record<string, string>> = {}): number {
    return this.value(`${name}_count`, labels);
  }

  /** A histogram's `_sum` (summed over matching series). */
  sum(name: string, labels: Readonly<Record<string, string>> = {}): number {
    return this.value(`${name}_sum`, labels);
  }

  /** Label values of `label` across the samples named `name`. */
  labelValues(name: string, label: string): string[] {
    return [...new Set(this.select(name).flatMap((s) => (s.labels[label] === undefined ? [] : [s.labels[label] as string])))];
  }
}

export async function scrape(adminUrl: string): Promise<Scrape> {
  const res = await fetch(`${adminUrl}/metrics`);
  if (res.status !== 200) throw new Error(`GET ${adminUrl}/metrics answered ${res.status}`);
  return new Scrape(await res.text());
}

/** Later minus earlier, for one counter or histogram series (a cumulative value never goes down). */
export function delta(before: Scrape, after: Scrape, name: string, labels: Readonly<Record<string, string>> = {}): number {
  return after.value(name, labels) - before.value(name, labels);
}

function parseSample(line: string): Sample {
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  let name: string;
  const labels: Record<string, string> = {};
  let rest: string;
  if (brace !== -1 && brace < space) {
    name = line.slice(0, brace);
    let i = brace + 1;
    while (line[i] !== '}') {
      const eq = line.indexOf('=', i);
      const key = line.slice(i, eq).trim();
      if (line[eq + 1] !== '"') throw new Error(`bad label in: ${line}`);
      let value = '';
      let j = eq + 2;
      for (; line[j] !== '"'; j++) {
        if (j >= line.length) throw new Error(`unterminated label value in: ${line}`);
        if (line[j] === '\\') {
          j++;
          value += line[j] === 'n' ? '\n' : (line[j] as string);
        } else {
          value += line[j] as string;
        }
      }
      labels[key] = value;
      i = j + 1;
      if (line[i] === ',') i++;
    }
    rest = line.slice(i + 1).trim();
  } else {
    name = line.slice(0, space);
    rest = line.slice(space + 1).trim();
  }
  const text = rest.split(' ')[0] ?? '';
  const value = text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text);
  return { name, labels, value };
}
