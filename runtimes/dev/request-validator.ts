// Checks a ModelInferRequest against a model's config in Triton's order and with Triton's
// messages: input count and names, datatypes, shapes and batch size, requested outputs, raw byte
// sizes; then decodes the tensors with the shared codec (raw or typed contents).
import { elementBytes, type Datatype } from '../../router/core/datatype.js';
import { elementCount, inputsFromRequest, type RawTensor } from '../../router/adapters/kserve-tensor/index.js';
import type { ModelInferRequest__Output } from '../../router/generated/inference/ModelInferRequest.js';
import type { InferParameter__Output } from '../../router/generated/inference/InferParameter.js';
import { fullShape, type ModelSpec, type TensorSpec } from './model-spec.js';
import { asRuntimeError, invalidArgument, requestPrefix } from './runtime-error.js';
import type { ValidatedRequest } from './served-model.js';

const quoteList = (names: readonly string[]): string => `[${names.map((n) => `'${n}'`).join(',')}]`;
const formatDims = (dims: readonly number[]): string => `[${dims.join(',')}]`;

const BATCH_NOTE =
  ' NOTE: Setting a non-zero max_batch_size in the model config requires a batch dimension to be prepended to each ' +
  'input shape. If you want to specify the full shape including the batch dim in your input dims config, try ' +
  'setting max_batch_size to zero. See the model configuration docs for more info on max_batch_size.';

function sharedMemoryRegion(parameters: Record<string, InferParameter__Output>): string | undefined {
  const region = parameters['shared_memory_region'];
  return region === undefined ? undefined : (region.string_param ?? '');
}

/** Request dims as numbers; anything that is not a non-negative integer becomes NaN (a mismatch). */
function parseDims(shape: readonly string[]): number[] {
  return shape.map((d) => (/^[0-9]{1,15}$/.test(d) ? Number(d) : Number.NaN));
}

function dimsMatch(expected: readonly number[], got: readonly number[]): boolean {
  return expected.length === got.length && expected.every((d, i) => d === -1 ? Number.isInteger(got[i]) : d === got[i]);
}

export function validateRequest(spec: ModelSpec, req: ModelInferRequest__Output): ValidatedRequest {
  const prefix = requestPrefix(req.id);
  const fail = (message: string) => invalidArgument(prefix + message);
  const model = spec.name;

  // The dev runtime registers no shared memory, so any region named is unknown (Triton's message).
  for (const tensor of [...req.inputs, ...req.outputs]) {
    const region = sharedMemoryRegion(tensor.parameters);
    if (region !== undefined) throw invalidArgument(`Unable to find system shared memory region: '${region}'`);
  }

  const specs = new Map(spec.inputs.map((t) => [t.name, t]));
  const required = spec.inputs.filter((t) => t.optional !== true);
  const given = req.inputs.map((i) => i.name);
  const missing = required.filter((t) => !given.includes(t.name)).map((t) => t.name);
  if (given.length < required.length || given.length > spec.inputs.length || (missing.length > 0 && given.every((n) => specs.has(n)))) {
    const expected = required.length === spec.inputs.length
      ? `expected ${spec.inputs.length} inputs`
      : `expected number of inputs between ${required.length} and ${spec.inputs.length}`;
    let message = `${expected} but got ${given.length} inputs for model '${model}'`;
    if (missing.length > 0) {
      message += `. Got input(s) ${quoteList(given)}, but missing required input(s) ${quoteList(missing)}. Please provide all required input(s).`;
    }
    throw fail(message);
  }

  let batchSize: number | undefined;
  const seen = new Set<string>();
  for (const input of req.inputs) {
    const tensor: TensorSpec | undefined = specs.get(input.name);
    if (tensor === undefined) throw fail(`unexpected inference input '${input.name}' for model '${model}'`);
    if (seen.has(input.name)) throw fail(`input '${input.name}' already exists in request`);
    seen.add(input.name);
    if (input.datatype !== tensor.datatype) {
      throw fail(`inference input '${input.name}' data-type is '${input.datatype}', but model '${model}' expects '${tensor.datatype}'`);
    }
    const dims = parseDims(input.shape);
    if (spec.maxBatchSize > 0 && dims.length > 0 && Number.isInteger(dims[0])) {
      const rows = dims[0] as number;
      if (rows > spec.maxBatchSize) throw fail(`inference request batch-size must be <= ${spec.maxBatchSize} for '${model}'`);
      if (rows < 1) throw fail(`inference request batch-size must be >= 1 for '${model}'`);
      if (batchSize !== undefined && rows !== batchSize) throw fail(`input '${input.name}' batch size does not match other inputs for '${model}'`);
      batchSize = rows;
    }
    const expected = fullShape(spec, tensor);
    if (!dimsMatch(expected, dims)) {
      const note = spec.maxBatchSize > 0 ? BATCH_NOTE : '';
      throw fail(`unexpected shape for input '${input.name}' for model '${model}'. Expected ${formatDims(expected)}, got ${formatDims(input.shape.map(Number))}.${note}`);
    }
  }

  const outputNames = new Set(spec.outputs.map((t) => t.name));
  for (const output of req.outputs) {
    if (!outputNames.has(output.name)) throw fail(`unexpected inference output '${output.name}' for model '${model}'`);
  }

  if (req.raw_input_contents.length === req.inputs.length) {
    req.inputs.forEach((input, i) => {
      const size = elementBytes(input.datatype as Datatype);
      if (size === undefined) return; // BYTES: element framing is checked by the codec
      const want = elementCount(parseDims(input.shape)) * size;
      const got = (req.raw_input_contents[i] as Buffer).length;
      if (want !== got) throw fail(`input byte size mismatch for input '${input.name}' for model '${model}'. Expected ${want}, got ${got}`);
    });
  }

  let tensors: RawTensor[];
  try {
    tensors = inputsFromRequest(req);
  } catch (err) {
    throw asRuntimeError(err, 'request');
  }

  return {
    id: req.id,
    modelVersion: req.model_version,
    parameters: req.parameters,
    inputs: new Map(tensors.map((t) => [t.name, t])),
    batchSize: batchSize ?? 1,
    requestedOutputs: [...new Set(req.outputs.map((o) => o.name))],
  };
}
