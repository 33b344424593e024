// Triton's HTTP JSON for metadata, config and statistics prints 64-bit integers as JSON numbers (its
// model_config_utils "fixes" protobuf's string int64s); proto-loader gives them as strings.

const CONFIG_INT_ARRAYS = new Set(['dims', 'shape', 'preferred_batch_size', 'gpus']);
const CONFIG_INT_SCALARS = new Set([
  'max_queue_delay_microseconds', 'priority_levels', 'default_priority_level', 'default_timeout_microseconds',
]);
// Statistics: every string except these is a uint64 counter.
const STATS_STRINGS = new Set(['name', 'version', 'type']);

/** Model metadata: tensor shapes are int64 on the wire and JSON numbers in V2 REST. */
export function metadataToJson(value: unknown): unknown {
  return mapInts(value, (key) => key === 'shape');
}

export function configToJson(value: unknown): unknown {
  return mapInts(value, (key) => CONFIG_INT_ARRAYS.has(key) || CONFIG_INT_SCALARS.has(key));
}

export function statisticsToJson(value: unknown): unknown {
  return mapInts(value, (key) => !STATS_STRINGS.has(key));
}

function mapInts(value: unknown, isIntKey: (key: string) => boolean, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => mapInts(v, isIntKey, key));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapInts(v, isIntKey, k)]));
  }
  if (typeof value === 'string' && isIntKey(key) && /^-?\d+$/.test(value)) return Number(value);
  return value;
}
