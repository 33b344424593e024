// One Triton LLM response's outputs by name, read with the tensor codec; a missing or malformed output is the upstream's fault.
import type { Datatype } from '../../core/datatype.js';
import { SwitchyardError } from '../../core/errors.js';
import type { ModelInferResponse__Output } from '../../generated/inference/ModelInferResponse.js';
import { outputsFromResponse, rawToJson, splitBytesElements, type RawTensor } from '../kserve-tensor/index.js';

const INTEGER_DATATYPES: ReadonlySet<Datatype> = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);

export class ResponseTensors {
  /** `triton_final_response`: the last response of this request. */
  readonly final: boolean;
  private readonly byName: Map<string, RawTensor>;

  constructor(response: ModelInferResponse__Output) {
    this.final = response.parameters?.['triton_final_response']?.bool_param === true;
    // outputsFromResponse validates every output's framing against its shape, so the reads below cannot overrun.
    this.byName = new Map(outputsFromResponse(response).map((tensor) => [tensor.name, tensor]));
  }

  /** The flags-only response a model may end with (sent because the request asks for it). */
  get empty(): boolean {
    return this.byName.size === 0;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Element 0 of a BYTES output (a view into the response). */
  bytes(name: string): Buffer {
    const tensor = this.first(name, 'BYTES');
    return splitBytesElements(name, tensor.raw)[0] as Buffer;
  }

  /** Element 0 of a BYTES output as UTF-8 text. */
  text(name: string): string {
    return this.bytes(name).toString('utf8');
  }

  /** Element 0 of an integer output (a token count), or undefined when this response does not carry it. */
  count(name: string): number | undefined {
    if (!this.byName.has(name)) return undefined;
    const tensor = this.first(name, 'integer');
    const value = Number(rawToJson(name, tensor.datatype, tensor.shape, tensor.raw)[0]);
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new SwitchyardError('SWY_ERR_UPSTREAM_BAD_RESPONSE', `upstream output '${name}': ${value} is not a token count`);
    }
    return value;
  }

  private first(name: string, kind: 'BYTES' | 'integer'): RawTensor {
    const tensor = this.byName.get(name);
    if (tensor === undefined) {
      throw new SwitchyardError('SWY_ERR_UPSTREAM_BAD_RESPONSE', `upstream response has no output '${name}'`);
    }
    const fits = kind === 'BYTES' ? tensor.datatype === 'BYTES' : INTEGER_DATATYPES.has(tensor.datatype);
    if (!fits) {
      throw new SwitchyardError('SWY_ERR_UPSTREAM_BAD_RESPONSE',
        `upstream output '${name}': datatype ${tensor.datatype} is not ${kind === 'BYTES' ? 'BYTES' : 'an integer type'}`);
    }
    if (tensor.shape.includes(0)) {
      throw new SwitchyardError('SWY_ERR_UPSTREAM_BAD_RESPONSE', `upstream output '${name}': has no elements`);
    }
    return tensor;
  }
}
