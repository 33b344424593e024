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

export function encodeRestInferResponse(
  response: ModelInferResponse__Output,
  binaryOutput: (name: string) => boolean,
): EncodedRestResponse {
  const tensors = outputsFromResponse(response);
  const blobs: Buffer[] = [];
  const outputs = tensors.map((t) => {
    const head: Record<string, unknown> = { name: t.name, datatype: t.datatype, shape: t.shape };
    if (binaryOutput(t.name)) {
      head.parameters = { binary_data_size: t.raw.length };
      blobs.push(t.raw);
      return JSON.stringify(head);
    }
    return withField(JSON.stringify(head), 'data', dataJson(rawToJson(t.name, t.datatype, t.shape, t.raw)));
  });
  const doc: Record<string, unknown> = { model_name: response.model_name };
  if (response.model_version !== '') doc.model_version = response.model_version;
  if (response.id !== '') doc.id = response.id;
  const params = parametersToJson(response.parameters);
  if (Object.keys(params).length > 0) doc.parameters = params;

  const json = withField(JSON.stringify(doc), 'outputs', `[${outputs.join(',')}]`);
  if (blobs.length === 0) return { body: json };
  const header = Buffer.from(json, 'utf8');
  return { body: Buffer.concat([header, ...blobs]), headerLength: header.length };
}

/** Appends a pre-serialized field to a serialized non-empty JSON object. */
function withField(objectJson: string, key: string, valueJson: string): string {
  return `${objectJson.slice(0, -1)},${JSON.stringify(key)}:${valueJson}}`;
}

// BigInt has no JSON form: 64-bit integers beyond 2^53 are written as exact decimal literals,
// which is what Triton prints and what JSON parsers with big-number support read back exactly.
function dataJson(data: readonly unknown[]): string {
  if (!data.some((v) => typeof v === 'bigint')) return JSON.stringify(data);
  return `[${data.map((v) => (typeof v === 'bigint' ? v.toString() : JSON.stringify(v))).join(',')}]`;
}
