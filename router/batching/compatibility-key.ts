// When two V2 requests may share one upstream call: the same inputs (names, datatypes and every dim
// but the batch dim, in the same order, with the same input parameters), the same requested outputs
// (names and parameters such as `classification`, in order) and the same request parameters — except
// `timeout`, which is per request (the batch carries the smallest). `priority` stays in the key, so
// a batch is homogeneous and the upstream's priority queueing still applies to it. Sequence
// parameters make a request unbatchable: a stateful sequence must reach its model alone.
import type { RawTensor } from '../adapters/kserve-tensor/index.js';
import type { InferParameter } from '../generated/inference/InferParameter.js';
import type { ModelInferRequest } from '../generated/inference/ModelInferRequest.js';

/** Request parameters that differ per request and never keep requests apart. */
export const PER_REQUEST_PARAMETERS: ReadonlySet<string> = new Set(['timeout']);

/** Request parameters that forbid merging (Triton's sequence batcher owns such requests). */
export const SEQUENCE_PARAMETERS: readonly string[] = ['sequence_id', 'sequence_start', 'sequence_end'];

type Parameters = Readonly<Record<string, InferParameter>> | undefined;

const PARAMETER_FIELDS = ['bool_param', 'int64_param', 'string_param', 'double_param', 'uint64_param'] as const;

/** `tensors` are the request's inputs as the codec read them (same order as request.inputs). */
export function compatibilityKey(request: ModelInferRequest, tensors: readonly RawTensor[]): string {
  const inputs = tensors.map((t, i) => [t.name, t.datatype, t.shape.slice(1), parametersKey(request.inputs?.[i]?.parameters)]);
  const outputs = (request.outputs ?? []).map((o) => [o.name ?? '', parametersKey(o.parameters)]);
  return JSON.stringify([inputs, outputs, parametersKey(request.parameters, PER_REQUEST_PARAMETERS)]);
}

/** Parameters as sorted [key, kind, value] triples, so map order and number/string spellings of int64 do not matter. */
function parametersKey(parameters: Parameters, skip?: ReadonlySet<string>): (readonly string[])[] {
  if (parameters === undefined) return [];
  return Object.keys(parameters)
    .filter((k) => skip === undefined || !skip.has(k))
    .sort()
    .map((k) => {
      const p = parameters[k] as InferParameter;
      const kind = p.parameter_choice ?? PARAMETER_FIELDS.find((f) => p[f] !== undefined) ?? '';
      const value = kind === '' ? '' : String(p[kind]);
      return [k, kind, value];
    });
}

/** The value of an integer-valued parameter (int64, uint64 or double), or undefined. */
export function numericParameter(parameters: Parameters, key: string): number | undefined {
  const p = parameters?.[key];
  if (p === undefined) return undefined;
  const raw = p.int64_param ?? p.uint64_param ?? p.double_param;
  if (raw === undefined) return undefined;
  const value = Number(String(raw));
  return Number.isFinite(value) ? value : undefined;
}
