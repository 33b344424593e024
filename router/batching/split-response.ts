// One batch answer → one answer per member: each output cut on dimension 0 by the member's rows
// (BYTES at element boundaries), with the member's own id and output shapes. Typed contents are
// normalised to raw by the codec first. An output without the batch dimension (dimension 0 is not
// the batch's rows) goes to every member whole. Also the reverse for oversize requests cut into
// pieces: the pieces' answers joined back on dimension 0.
import { outputsFromResponse, type RawTensor } from '../adapters/kserve-tensor/index.js';
import { SwitchyardError } from '../core/errors.js';
import type { ModelInferResponse__Output } from '../generated/inference/ModelInferResponse.js';
import { sliceRows } from './tensor-rows.js';

export interface MemberShare {
  readonly rows: number;
  readonly id: string;
}

export function splitResponse(response: ModelInferResponse__Output, members: readonly MemberShare[]): ModelInferResponse__Output[] {
  const tensors = outputsFromResponse(response);
  const rows = members.map((m) => m.rows);
  const total = rows.reduce((a, b) => a + b, 0);
  const pieces = tensors.map((t) => (hasBatchDim(t, total) ? sliceRows(t, rows) : undefined));
  return members.map((member, i) => ({
    model_name: response.model_name,
    model_version: response.model_version,
    id: member.id,
    parameters: response.parameters,
    outputs: tensors.map((t, k) => ({
      name: t.name,
      datatype: t.datatype,
      shape: (pieces[k] === undefined ? t.shape : [member.rows, ...t.shape.slice(1)]).map(String),
      parameters: response.outputs[k]?.parameters ?? {},
      contents: null,
    })),
    raw_output_contents: tensors.map((t, k) => pieces[k]?.[i] ?? t.raw),
  }));
}

/** The answers to the pieces of one request (in order, `rows[i]` rows each) as one answer with `id`. */
export function joinResponses(parts: readonly ModelInferResponse__Output[], rows: readonly number[], id: string): ModelInferResponse__Output {
  const first = parts[0];
  if (first === undefined) throw new SwitchyardError('SWY_ERR_INTERNAL', 'no pieces to join');
  const tensors = parts.map((p) => outputsFromResponse(p));
  const total = rows.reduce((a, b) => a + b, 0);
  const firstTensors = tensors[0] as RawTensor[];
  const joined = firstTensors.map((t, k) => {
    const same = tensors.map((ts) => ts[k]);
    const batched = same.every((s, i) => s !== undefined && s.name === t.name && hasBatchDim(s, rows[i] as number) && sameDims(s.shape.slice(1), t.shape.slice(1)));
    if (!batched) return t;
    return { ...t, shape: [total, ...t.shape.slice(1)], raw: Buffer.concat(same.map((s) => (s as RawTensor).raw)) };
  });
  return {
    model_name: first.model_name,
    model_version: first.model_version,
    id,
    parameters: first.parameters,
    outputs: joined.map((t, k) => ({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape.map(String),
      parameters: first.outputs[k]?.parameters ?? {},
      contents: null,
    })),
    raw_output_contents: joined.map((t) => t.raw),
  };
}

function hasBatchDim(tensor: RawTensor, rows: number): boolean {
  return tensor.shape.length > 0 && tensor.shape[0] === rows;
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
