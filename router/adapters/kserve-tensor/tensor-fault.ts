// Builds the error for a bad tensor, blaming the client for inputs and the upstream for outputs.
import { SwitchyardError } from '../../core/errors.js';

/** Whose tensor is being decoded: a client's input, or an upstream server's output. */
export type TensorSide = 'input' | 'output';

/** What is wrong, which picks the client-facing code; upstream faults are all SWY_ERR_UPSTREAM_BAD_RESPONSE. */
export type TensorFaultKind = 'shape' | 'datatype' | 'field' | 'unsupported';

const INPUT_CODES = {
  shape: 'SWY_ERR_INPUT_TENSOR_SHAPE',
  datatype: 'SWY_ERR_INPUT_TENSOR_DATATYPE',
  field: 'SWY_ERR_INPUT_INVALID_FIELD',
  unsupported: 'SWY_ERR_INPUT_UNSUPPORTED',
} as const;

export function tensorFault(side: TensorSide, name: string, kind: TensorFaultKind, detail: string): SwitchyardError {
  if (side === 'output') {
    return new SwitchyardError('SWY_ERR_UPSTREAM_BAD_RESPONSE', `upstream output '${name}': ${detail}`);
  }
  return new SwitchyardError(INPUT_CODES[kind], `input '${name}': ${detail}`);
}

/** A short, bounded rendering of a bad value for error messages (never the whole payload). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string': {
      const shown = value.length > 32 ? `${value.slice(0, 32)}...` : value;
      return JSON.stringify(shown);
    }
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    default:
      return value instanceof Uint8Array ? 'a byte array' : `a value of type ${typeof value}`;
  }
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
