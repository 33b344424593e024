// Cutting a raw tensor along dimension 0 into consecutive row ranges, as views (no copy). Fixed-size
// datatypes cut at row × row-bytes; BYTES cuts at element boundaries found by the codec, each piece
// keeping its elements' 4-byte length prefixes — so concatenating the pieces gives back the exact
// bytes, and concatenating whole requests' raw BYTES inputs is itself a valid tensor.
import { elementCount, splitBytesElements, type RawTensor } from '../adapters/kserve-tensor/index.js';
import { elementBytes } from '../core/datatype.js';
import { SwitchyardError } from '../core/errors.js';

/** `rows[i]` rows each, in order; they must add up to the tensor's dimension 0. */
export function sliceRows(tensor: RawTensor, rows: readonly number[]): Buffer[] {
  const total = tensor.shape[0];
  const sum = rows.reduce((a, b) => a + b, 0);
  if (total === undefined || sum !== total) {
    throw new SwitchyardError('SWY_ERR_INTERNAL', `cannot cut tensor '${tensor.name}' of shape [${tensor.shape.join(',')}] into ${sum} rows`);
  }
  const perRow = elementCount(tensor.shape.slice(1));
  const size = elementBytes(tensor.datatype);
  const raw = tensor.raw;
  const pieces = new Array<Buffer>(rows.length);
  if (size !== undefined) {
    const rowBytes = perRow * size;
    let offset = 0;
    for (let i = 0; i < rows.length; i++) {
      const end = offset + (rows[i] as number) * rowBytes;
      pieces[i] = raw.subarray(offset, end);
      offset = end;
    }
    return pieces;
  }
  // The codec returns views of each element's body; its frame starts 4 bytes (the length) earlier.
  const elements = splitBytesElements(tensor.name, raw);
  const frameStart = (index: number): number =>
    index >= elements.length ? raw.length : (elements[index] as Buffer).byteOffset - raw.byteOffset - 4;
  let element = 0;
  for (let i = 0; i < rows.length; i++) {
    const next = element + (rows[i] as number) * perRow;
    pieces[i] = raw.subarray(frameStart(element), frameStart(next));
    element = next;
  }
  return pieces;
}
