// The KServe V2 tensor datatypes and their wire sizes; the single table every codec reads.

export const DATATYPES = [
  'BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64',
  'FP16', 'FP32', 'FP64', 'BYTES', 'BF16',
] as const;

export type Datatype = (typeof DATATYPES)[number];

/** Bytes per element in raw (little-endian) form; BYTES is variable (4-byte length prefix per element). */
const ELEMENT_BYTES: Record<Exclude<Datatype, 'BYTES'>, number> = {
  BOOL: 1, UINT8: 1, UINT16: 2, UINT32: 4, UINT64: 8, INT8: 1, INT16: 2, INT32: 4, INT64: 8,
  FP16: 2, FP32: 4, FP64: 8, BF16: 2,
};

const DATATYPE_SET: ReadonlySet<string> = new Set(DATATYPES);

export function isDatatype(value: string): value is Datatype {
  return DATATYPE_SET.has(value);
}

/** Fixed element size in bytes, or undefined for BYTES. */
export function elementBytes(datatype: Datatype): number | undefined {
  return datatype === 'BYTES' ? undefined : ELEMENT_BYTES[datatype];
}

/** Triton model_config DataType enum name for a V2 datatype (BYTES is TYPE_STRING). */
export function tritonTypeName(datatype: Datatype): string {
  return datatype === 'BYTES' ? 'TYPE_STRING' : `TYPE_${datatype}`;
}

/** V2 datatype for a Triton model_config DataType enum name, or undefined for TYPE_INVALID/unknown. */
export function datatypeFromTriton(typeName: string): Datatype | undefined {
  if (typeName === 'TYPE_STRING') return 'BYTES';
  const name = typeName.startsWith('TYPE_') ? typeName.slice(5) : '';
  return isDatatype(name) && name !== 'BYTES' ? name : undefined;
}
