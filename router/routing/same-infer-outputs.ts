// Whether two V2 infer answers carry the same outputs: the same names, datatypes, shapes and data.
// Routing does not decode tensors (that is the adapters' job), so the comparison is structural and
// deterministic: outputs sorted by name, typed `contents` as JSON, raw bytes compared byte for byte.
// An answer with raw bytes and one with the same values as typed contents therefore differ; both
// come from the same kind of upstream (Triton answers raw), so that is a real difference in practice.
import type { ModelInferResponse__Output } from '../generated/inference/ModelInferResponse.js';
import type { InferTensorContents__Output } from '../generated/inference/InferTensorContents.js';

interface CanonicalOutput {
  readonly head: string;
  readonly raw: Buffer | undefined;
}

export function sameInferOutputs(a: ModelInferResponse__Output, b: ModelInferResponse__Output): boolean {
  const left = canonicalOutputs(a);
  const right = canonicalOutputs(b);
  if (left.length !== right.length) return false;
  return left.every((l, i) => {
    const r = right[i] as CanonicalOutput;
    if (l.head !== r.head) return false;
    if (l.raw === undefined || r.raw === undefined) return l.raw === r.raw;
    return l.raw.equals(r.raw);
  });
}

/** Outputs in name order; `raw_output_contents[i]` belongs to `outputs[i]` (the V2 gRPC rule). */
function canonicalOutputs(response: ModelInferResponse__Output): CanonicalOutput[] {
  return response.outputs
    .map((output, i) => ({
      name: output.name,
      head: JSON.stringify([output.name, output.datatype, output.shape.map(String), typedContents(output.contents)]),
      raw: response.raw_output_contents[i],
    }))
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
    .map(({ head, raw }) => ({ head, raw }));
}

/** Non-empty typed fields in key order (decoding fills every absent repeated field with []), bytes as base64. */
function typedContents(contents: InferTensorContents__Output | null): [string, unknown[]][] | null {
  if (contents === null) return null;
  const fields: [string, unknown[]][] = [];
  for (const key of Object.keys(contents).sort()) {
    const values = (contents as unknown as Record<string, unknown>)[key];
    if (!Array.isArray(values) || values.length === 0) continue;
    fields.push([key, values.map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))]);
  }
  return fields.length === 0 ? null : fields;
}
