// Decodes a V2 REST inference body — JSON, or JSON followed by binary blobs (Triton's
// binary_tensor_data extension) — into the gRPC ModelInferRequest with raw contents the router forwards.
import { SwitchyardError } from '../../core/errors.js';
import type { ModelInferRequest } from '../../generated/inference/ModelInferRequest.js';
import type { InferParameter } from '../../generated/inference/InferParameter.js';
import { elementCount, jsonToRaw, parseDatatype, parseShape, validateRaw } from '../../adapters/kserve-tensor/index.js';
import { parametersFromJson } from './infer-parameters.js';

export interface RestInferLimits {
  readonly maxTensorElements: number;
}

export interface DecodedRestInfer {
  readonly request: ModelInferRequest & { model_name: string };
  /** Whether each output goes back as a binary blob (by name; `default` for unnamed outputs). */
  readonly binaryOutput: (name: string) => boolean;
}

const SHARED_MEMORY_KEYS = ['shared_memory_region', 'shared_memory_offset', 'shared_memory_byte_size'];

export function decodeRestInfer(
  body: Buffer | undefined,
  headerLength: string | undefined,
  target: { model: string; version: string },
  limits: RestInferLimits,
): DecodedRestInfer {
  if (body === undefined || body.length === 0) {
    throw new SwitchyardError('SWY_ERR_INPUT_MALFORMED_BODY', 'request body is empty; expected a JSON inference request');
  }
  let jsonBytes = body;
  let blobs: Buffer = Buffer.alloc(0);
  if (headerLength !== undefined) {
    const n = Number(headerLength);
    if (!Number.isSafeInteger(n) || n < 0 || n > body.length) {
      throw new SwitchyardError('SWY_ERR_INPUT_MALFORMED_BODY', `Inference-Header-Content-Length ${headerLength} is not a byte count within the ${body.length}-byte body`);
    }
    if (n === 0) {
      throw new SwitchyardError('SWY_ERR_INPUT_UNSUPPORTED', 'raw binary requests (Inference-Header-Content-Length: 0) are not supported; send a JSON header with binary_data_size per input');
    }
    jsonBytes = body.subarray(0, n);
    blobs = body.subarray(n);
  }

  let doc: unknown;
  try {
    doc = JSON.parse(jsonBytes.toString('utf8'));
  } catch (err) {
    throw new SwitchyardError('SWY_ERR_INPUT_MALFORMED_BODY', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new SwitchyardError('SWY_ERR_INPUT_MALFORMED_BODY', 'request body must be a JSON object');
  }
  const req = doc as Record<string, unknown>;

  if (req.id !== undefined && typeof req.id !== 'string') invalid('id', 'must be a string');
  const parameters = parametersFromJson('parameters', req.parameters);
  const defaultBinary = takeBool(parameters, 'binary_data_output', 'parameters.binary_data_output') ?? false;

  if (!Array.isArray(req.inputs)) invalid('inputs', 'is required and must be an array');
  const inputs = req.inputs as unknown[];

  const names = new Set<string>();
  let totalElements = 0;
  let blobOffset = 0;
  const tensors: NonNullable<ModelInferRequest['inputs']> = [];
  const raws: Buffer[] = [];
  inputs.forEach((item, i) => {
    const field = `inputs[${i}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) invalid(field, 'must be an object');
    const input = item as Record<string, unknown>;
    if (typeof input.name !== 'string' || input.name === '') invalid(`${field}.name`, 'must be a non-empty string');
    const name = input.name as string;
    if (names.has(name)) invalid(`${field}.name`, `duplicate input '${name}'`);
    names.add(name);
    const datatype = parseDatatype(name, input.datatype);
    const shape = parseShape(name, input.shape);
    const count = elementCount(shape);
    totalElements += count;
    if (totalElements > limits.maxTensorElements) {
      throw new SwitchyardError('SWY_ERR_INPUT_TENSOR_TOO_LARGE', `input '${name}': the request's tensors exceed the limit of ${limits.maxTensorElements} elements (limits.maxTensorElements)`);
    }
    const inputParams = parametersFromJson(`${field}.parameters`, input.parameters);
    for (const key of SHARED_MEMORY_KEYS) {
      if (key in inputParams) {
        throw new SwitchyardError('SWY_ERR_INPUT_UNSUPPORTED', `input '${name}': shared-memory tensors are not supported through the router`);
      }
    }
    const binarySize = takeInt(inputParams, 'binary_data_size', `${field}.parameters.binary_data_size`);
    let raw: Buffer;
    if (binarySize !== undefined) {
      if (input.data !== undefined) invalid(`${field}.data`, 'must be absent when parameters.binary_data_size is set');
      if (blobOffset + binarySize > blobs.length) {
        throw new SwitchyardError('SWY_ERR_INPUT_MALFORMED_BODY', `input '${name}': binary_data_size ${binarySize} runs past the end of the body (${blobs.length - blobOffset} bytes left)`);
      }
      raw = blobs.subarray(blobOffset, blobOffset + binarySize);
      blobOffset += binarySize;
      validateRaw(name, datatype, shape, raw);
    } else {
      if (input.data === undefined) invalid(`${field}.data`, `is required for input '${name}' (or set parameters.binary_data_size)`);
      raw = jsonToRaw(name, datatype, shape, input.data);
    }
    tensors.push({ name, datatype, shape, parameters: inputParams });
    raws.push(raw);
  });
  if (blobOffset !== blobs.length) {
    throw new SwitchyardError('SWY_ERR_INPUT_MALFORMED_BODY', `binary section has ${blobs.length - blobOffset} bytes not claimed by any input's binary_data_size`);
  }

  const binaryByOutput = new Map<string, boolean>();
  const outputs: NonNullable<ModelInferRequest['outputs']> = [];
  if (req.outputs !== undefined) {
    if (!Array.isArray(req.outputs)) invalid('outputs', 'must be an array');
    (req.outputs as unknown[]).forEach((item, i) => {
      const field = `outputs[${i}]`;
      if (item === null || typeof item !== 'object' || Array.isArray(item)) invalid(field, 'must be an object');
      const output = item as Record<string, unknown>;
      if (typeof output.name !== 'string' || output.name === '') invalid(`${field}.name`, 'must be a non-empty string');
      const outputParams = parametersFromJson(`${field}.parameters`, output.parameters);
      for (const key of SHARED_MEMORY_KEYS) {
        if (key in outputParams) {
          throw new SwitchyardError('SWY_ERR_INPUT_UNSUPPORTED', `output '${String(output.name)}': shared-memory tensors are not supported through the router`);
        }
      }
      const binary = takeBool(outputParams, 'binary_data', `${field}.parameters.binary_data`);
      if (binary !== undefined) binaryByOutput.set(output.name as string, binary);
      outputs.push({ name: output.name as string, parameters: outputParams });
    });
  }

  return {
    request: {
      model_name: target.model,
      model_version: target.version,
      id: (req.id as string | undefined) ?? '',
      parameters,
      inputs: tensors,
      outputs,
      raw_input_contents: raws,
    },
    binaryOutput: (name) => binaryByOutput.get(name) ?? defaultBinary,
  };
}

function invalid(field: string, problem: string): never {
  throw new SwitchyardError('SWY_ERR_INPUT_INVALID_FIELD', `'${field}' ${problem}`, { param: field });
}

/** Removes an HTTP-only parameter from the map (it must not reach the upstream) and returns its value. */
function takeBool(params: Record<string, InferParameter>, key: string, field: string): boolean | undefined {
  const p = params[key];
  if (p === undefined) return undefined;
  delete params[key];
  if (p.bool_param === undefined) invalid(field, 'must be a boolean');
  return p.bool_param;
}

function takeInt(params: Record<string, InferParameter>, key: string, field: string): number | undefined {
  const p = params[key];
  if (p === undefined) return undefined;
  delete params[key];
  const n = p.int64_param === undefined ? NaN : Number(p.int64_param);
  if (!Number.isSafeInteger(n) || n < 0) invalid(field, 'must be a non-negative integer');
  return n;
}
