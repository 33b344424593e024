// Encodes an upstream ModelInferResponse as a V2 REST body: JSON, or a JSON header followed by
// binary blobs for outputs the client asked to receive as binary (no decode needed for those).
import type { ModelInferResponse__Output } from '../../generated/inference/ModelInferResponse.js';
import { outputsFromResponse, rawToJson } from '../../adapters/kserve-tensor/index.js';
import { parametersToJson } from './infer-parameters.js';

export interface EncodedRestResponse {
  readonly body: string | Buffer;
  /** Set when the body carries binary blobs: the JSON header's byte length. */
  readonly headerLength?: number;
}

// BigInt has no JSON form; 64-bit integers beyond 2^53 are written as exact decimal literals.
const BIGINT_MARK = '\u0000bigint:';
const BIGINT_STRING = /"\\u0000bigint:(-?\d+)"/g;

export function encodeRestInferResponse(
  response: ModelInferResponse__Output,
  binaryOutput: (name: string) => boolean,
): EncodedRestResponse {
  const tensors = outputsFromResponse(response);
  const blobs: Buffer[] = [];
  let hasBigInt = false;
  const outputs = tensors.map((t) => {
    const out: Record<string, unknown> = { name: t.name, datatype: t.datatype, shape: t.shape };
    if (binaryOutput(t.name)) {
      out.parameters = { binary_data_size: t.raw.length };
      blobs.push(t.raw);
    } else {
      const data = rawToJson(t.name, t.datatype, t.shape, t.raw);
      if (t.datatype === 'INT64' || t.datatype === 'UINT64') hasBigInt ||= data.some((v) => typeof v === 'bigint');
      out.data = data;
    }
    return out;
  });
  const doc: Record<string, unknown> = { model_name: response.model_name };
  if (response.model_version !== '') doc.model_version = response.model_version;
  if (response.id !== '') doc.id = response.id;
  const params = parametersToJson(response.parameters);
  if (Object.keys(params).length > 0) doc.parameters = params;
  doc.outputs = outputs;

  const json = hasBigInt
    ? JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'bigint' ? BIGINT_MARK + v.toString() : v)).replace(BIGINT_STRING, '$1')
    : JSON.stringify(doc);
  if (blobs.length === 0) return { body: json };
  const header = Buffer.from(json, 'utf8');
  return { body: Buffer.concat([header, ...blobs]), headerLength: header.length };
}
