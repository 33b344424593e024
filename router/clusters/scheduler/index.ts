// Public API of the scheduler: the picker contract, the pickers, and the registry that builds one from config.
export type { EndpointLoad, Picker, Random } from './picker.js';
export { createPicker } from './create-picker.js';
export { LeastRequestPicker, type LeastRequestConfig } from './least-request-picker.js';
export { RoundRobinPicker } from './round-robin-picker.js';
export { ConsistentHashPicker, type ConsistentHashConfig } from './consistent-hash-picker.js';
export { PrefixAffinityPicker, type PrefixAffinityConfig } from './prefix-affinity-picker.js';
export { boundedLoadCapacity } from './bounded-load.js';
