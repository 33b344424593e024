// Assembles the ModelInferRequest a profile sends: every input as raw bytes, plus the parameters every LLM request needs.
import type { Datatype } from '../../core/datatype.js';
import type { ModelInferRequest, _inference_ModelInferRequest_InferInputTensor } from '../../generated/inference/ModelInferRequest.js';
import { jsonToRaw } from '../kserve-tensor/index.js';

export class InferRequestBuilder {
  private readonly inputs: _inference_ModelInferRequest_InferInputTensor[] = [];
  private readonly raw: Buffer[] = [];

  /** `data` is nested like `shape` (or flat); the codec checks every element against the datatype. */
  add(name: string, datatype: Datatype, shape: readonly number[], data: unknown): this {
    this.raw.push(jsonToRaw(name, datatype, shape, data));
    this.inputs.push({ name, datatype, shape: [...shape] });
    return this;
  }

  build(upstream: { readonly model: string; readonly version: string }, id: string): ModelInferRequest {
    return {
      model_name: upstream.model,
      model_version: upstream.version,
      id,
      // Without it, a model that ends with a flags-only response (TRT-LLM streaming may) never marks the end.
      parameters: { triton_enable_empty_final_response: { bool_param: true } },
      inputs: this.inputs,
      raw_input_contents: this.raw,
    };
  }
}
