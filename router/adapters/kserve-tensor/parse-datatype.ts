// Turns a wire datatype string into a Datatype, or an error naming the tensor and the valid names.
import { DATATYPES, isDatatype, type Datatype } from '../../core/datatype.js';
import { describeValue, tensorFault, type TensorSide } from './tensor-fault.js';

const VALID = DATATYPES.join(', ');

export function parseDatatype(tensorName: string, datatype: unknown): Datatype {
  return parseDatatypeFor('input', tensorName, datatype);
}

export function parseDatatypeFor(side: TensorSide, tensorName: string, datatype: unknown): Datatype {
  if (typeof datatype === 'string' && isDatatype(datatype)) return datatype;
  throw tensorFault(side, tensorName, 'datatype', `datatype ${describeValue(datatype)} is not one of ${VALID}`);
}
