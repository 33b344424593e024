// Which InferTensorContents field carries each datatype (protocols.md §1.3); FP16 and BF16 have none.
import type { Datatype } from '../../core/datatype.js';
import type { InferTensorContents__Output } from '../../generated/inference/InferTensorContents.js';

export type ContentsField = keyof InferTensorContents__Output;

export const CONTENTS_FIELDS: readonly ContentsField[] = [
  'bool_contents', 'int_contents', 'int64_contents', 'uint_contents',
  'uint64_contents', 'fp32_contents', 'fp64_contents', 'bytes_contents',
];

const FIELD_BY_DATATYPE: Record<Datatype, ContentsField | undefined> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents', INT16: 'int_contents', INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents', UINT16: 'uint_contents', UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
  FP16: undefined,
  BF16: undefined,
};

/** The typed field for a datatype, or undefined when it can only travel as raw contents. */
export function contentsField(datatype: Datatype): ContentsField | undefined {
  return FIELD_BY_DATATYPE[datatype];
}
