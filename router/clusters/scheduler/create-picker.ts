// The picker registry: a cluster's validated `picker` config → its Picker. Adding a picker means a
// schema branch in config/schema.ts, a class here, a case below and a section in README.md.
import type { PickerConfig } from '../../config/schema.js';
import { ConsistentHashPicker } from './consistent-hash-picker.js';
import { LeastRequestPicker } from './least-request-picker.js';
import type { Picker, Random } from './picker.js';
import { PrefixAffinityPicker } from './prefix-affinity-picker.js';
import { RoundRobinPicker } from './round-robin-picker.js';

export function createPicker(config: PickerConfig, random: Random = Math.random): Picker {
  switch (config.type) {
    case 'least-request':
      return new LeastRequestPicker(config, random);
    case 'round-robin':
      return new RoundRobinPicker(random);
    case 'consistent-hash':
      return new ConsistentHashPicker(config, random);
    case 'prefix-affinity':
      return new PrefixAffinityPicker(config, random);
  }
}
