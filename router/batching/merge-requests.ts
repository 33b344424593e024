// Many compatible requests → one upstream ModelInferRequest: every input concatenated on dimension
// 0 as raw bytes (BYTES too: each element carries its own length prefix), a fresh id, the members'
// shared parameters, and the smallest `timeout` any member asked for.
import { SwitchyardError } from '../core/errors.js';
import type { InferParameter } from '../generated/inference/InferParameter.js';
import type { ModelInferRequest } from '../generated/inference/ModelInferRequest.js';
import type { BatchableRequest } from './batchable-request.js';
import { numericParameter, PER_REQUEST_PARAMETERS } from './compatibility-key.js';

export function mergeRequests(members: readonly BatchableRequest[], id: string): ModelInferRequest {
  const first = members[0];
  if (first === undefined) throw new SwitchyardError('SWY_ERR_INTERNAL', 'cannot merge an empty batch');
  let rows = 0;
  for (const m of members) {
    // Equal keys guarantee this; checked anyway because a wrong merge would answer with someone else's rows.
    if (m.key !== first.key || m.tensors.length !== first.tensors.length) {
      throw new SwitchyardError('SWY_ERR_INTERNAL', 'batch members are not compatible');
    }
    rows += m.rows;
  }
  const inputs = first.tensors.map((t, i) => ({
    name: t.name,
    datatype: t.datatype,
    shape: [rows, ...t.shape.slice(1)],
    parameters: first.request.inputs?.[i]?.parameters ?? {},
  }));
  const raw = first.tensors.map((_, i) => Buffer.concat(members.map((m) => (m.tensors[i] as (typeof m.tensors)[number]).raw)));
  return {
    model_name: first.request.model_name ?? '',
    model_version: first.request.model_version ?? '',
    id,
    parameters: mergedParameters(members),
    inputs,
    outputs: first.request.outputs ?? [],
    raw_input_contents: raw,
  };
}

/** The first member's parameters (equal in all but the per-request ones), with the strictest timeout. */
function mergedParameters(members: readonly BatchableRequest[]): Record<string, InferParameter> {
  const out: Record<string, InferParameter> = {};
  for (const [key, value] of Object.entries(members[0]?.request.parameters ?? {})) {
    if (!PER_REQUEST_PARAMETERS.has(key)) out[key] = value;
  }
  let strictest: InferParameter | undefined;
  let strictestUs = Infinity;
  for (const m of members) {
    const us = numericParameter(m.request.parameters, 'timeout');
    // Triton reads 0 as "no timeout", so only positive values are a limit.
    if (us !== undefined && us > 0 && us < strictestUs) {
      strictestUs = us;
      strictest = m.request.parameters?.timeout;
    }
  }
  if (strictest !== undefined) out.timeout = strictest;
  return out;
}
