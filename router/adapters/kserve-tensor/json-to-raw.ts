// JSON tensor data (flat or nested) -> raw little-endian bytes, checking every element against the datatype.
import { elementBytes, type Datatype } from '../../core/datatype.js';
import { elementCount } from './element-count.js';
import { jsonRows } from './json-rows.js';
import type { TensorSide } from './tensor-fault.js';
import { elementFault, writeFixedElements } from './write-elements.js';

export function jsonToRaw(tensorName: string, datatype: Datatype, shape: readonly number[], data: unknown): Buffer {
  return jsonToRawFor('input', tensorName, datatype, shape, data);
}

export function jsonToRawFor(
  side: TensorSide, tensorName: string, datatype: Datatype, shape: readonly number[], data: unknown,
): Buffer {
  const rows = jsonRows(side, tensorName, shape, data);
  if (datatype === 'BYTES') return stringsToRaw(side, tensorName, rows);
  const size = elementBytes(datatype) as number; // defined for every type but BYTES
  const out = Buffer.allocUnsafe(elementCount(shape) * size);
  const view = new DataView(out.buffer, out.byteOffset, out.length);
  let first = 0;
  for (const row of rows) {
    writeFixedElements(side, tensorName, datatype, row, view, first);
    first += row.length;
  }
  return out;
}

/** Two passes: measure every string's UTF-8 length, then encode each straight into one buffer. */
function stringsToRaw(side: TensorSide, tensorName: string, rows: readonly (readonly unknown[])[]): Buffer {
  let total = 0;
  let index = 0;
  for (const row of rows) {
    for (let i = 0; i < row.length; i++, index++) {
      const v = row[i];
      if (typeof v !== 'string') throw elementFault(side, tensorName, 'BYTES', index, v, 'must be a string');
      total += 4 + Buffer.byteLength(v, 'utf8');
    }
  }
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) {
      const written = out.write(row[i] as string, offset + 4, 'utf8');
      out.writeUInt32LE(written, offset);
      offset += 4 + written;
    }
  }
  return out;
}
