// V2 `$parameters` (JSON string | number | boolean) ⇄ protobuf InferParameter.
import { SwitchyardError } from '../../core/errors.js';
import type { InferParameter, InferParameter__Output } from '../../generated/inference/InferParameter.js';

export type JsonParameters = Record<string, string | number | boolean>;

export function parametersFromJson(field: string, value: unknown): Record<string, InferParameter> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD', `'${field}' must be an object`, { param: field });
  }
  const out: Record<string, InferParameter> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'boolean') out[key] = { bool_param: v };
    else if (typeof v === 'string') out[key] = { string_param: v };
    else if (typeof v === 'number' && Number.isFinite(v)) {
      out[key] = Number.isInteger(v) ? { int64_param: String(v) } : { double_param: v };
    } else {
      throw new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD', `'${field}.${key}' must be a string, number or boolean`, { param: `${field}.${key}` });
    }
  }
  return out;
}

export function parametersToJson(params: Readonly<Record<string, InferParameter__Output>>): JsonParameters {
  const out: JsonParameters = {};
  for (const [key, p] of Object.entries(params)) {
    switch (p.parameter_choice) {
      case 'bool_param': out[key] = p.bool_param ?? false; break;
      case 'string_param': out[key] = p.string_param ?? ''; break;
      case 'double_param': out[key] = p.double_param ?? 0; break;
      case 'int64_param': out[key] = Number(p.int64_param ?? 0); break;
      case 'uint64_param': out[key] = Number(p.uint64_param ?? 0); break;
      default: break;
    }
  }
  return out;
}
