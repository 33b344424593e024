// One V2 infer request as the batcher sees it: its inputs as raw tensors (typed contents normalised
// by the tensor codec), its rows (dimension 0, the same on every input) and its compatibility key.
// A request the batcher cannot merge safely is reported as such and goes upstream exactly as it came,
// so one malformed request never shares (or poisons) a batch: the upstream judges it alone.
import { inputsFromRequest, type RawTensor } from '../adapters/kserve-tensor/index.js';
import type { InferParameter__Output } from '../generated/inference/InferParameter.js';
import type { InferTensorContents__Output } from '../generated/inference/InferTensorContents.js';
import type { ModelInferRequest, ModelInferRequest__Output } from '../generated/inference/ModelInferRequest.js';
import { compatibilityKey, SEQUENCE_PARAMETERS } from './compatibility-key.js';

export interface BatchableRequest {
  /** The request as sent when it travels alone (model name and version already the upstream's). */
  readonly request: ModelInferRequest;
  /** Its inputs in request order, raw little-endian bytes. */
  readonly tensors: readonly RawTensor[];
  /** Dimension 0 of every input. */
  readonly rows: number;
  /** Equal keys ⇔ mergeable. */
  readonly key: string;
}

/** The request ready to queue, or undefined when it must go alone. */
export function prepareBatchable(request: ModelInferRequest): BatchableRequest | undefined {
  if (SEQUENCE_PARAMETERS.some((k) => request.parameters?.[k] !== undefined)) return undefined;
  const decoded = decodedView(request);
  if (decoded === undefined || decoded.inputs.length === 0) return undefined;
  let tensors: RawTensor[];
  try {
    tensors = inputsFromRequest(decoded);
  } catch {
    return undefined;
  }
  const rows = tensors[0]?.shape[0];
  if (rows === undefined || rows < 1 || tensors.some((t) => t.shape.length === 0 || t.shape[0] !== rows)) return undefined;
  return { request, tensors, rows, key: compatibilityKey(request, tensors) };
}

/**
 * The request in the decoded (proto-loader `__Output`) form the codec reads. Listeners hand the
 * router decoded messages or raw buffers; a hand-built request may use numbers or Longs in shapes
 * (read as decimal strings) — and base64 strings as raw contents, which the batcher leaves alone.
 */
export function decodedView(request: ModelInferRequest): ModelInferRequest__Output | undefined {
  const raw: Buffer[] = [];
  for (const r of request.raw_input_contents ?? []) {
    if (typeof r === 'string') return undefined;
    raw.push(Buffer.isBuffer(r) ? r : Buffer.from(r.buffer, r.byteOffset, r.byteLength));
  }
  return {
    model_name: request.model_name ?? '',
    model_version: request.model_version ?? '',
    id: request.id ?? '',
    parameters: {},
    outputs: [],
    inputs: (request.inputs ?? []).map((input) => ({
      name: input.name ?? '',
      datatype: input.datatype ?? '',
      shape: (input.shape ?? []).map((d) => String(d)),
      parameters: (input.parameters ?? {}) as Record<string, InferParameter__Output>,
      contents: (input.contents ?? null) as InferTensorContents__Output | null,
    })),
    raw_input_contents: raw,
  };
}
