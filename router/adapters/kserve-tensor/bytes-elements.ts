// The BYTES framing shared by gRPC raw contents and Triton's binary extension: per element a uint32 LE length, then the bytes.
import { SwitchyardError } from '../../core/errors.js';
import { tensorFault, type TensorSide } from './tensor-fault.js';

const MAX_ELEMENT_BYTES = 0xffffffff;

/** Views (not copies) of each element; throws if the framing is truncated anywhere. */
export function splitBytesElements(tensorName: string, raw: Buffer): Buffer[] {
  return splitBytesElementsFor('input', tensorName, raw);
}

export function splitBytesElementsFor(side: TensorSide, tensorName: string, raw: Buffer): Buffer[] {
  const elements: Buffer[] = [];
  const end = raw.length;
  let offset = 0;
  while (offset < end) {
    const start = frameStart(side, tensorName, raw, offset, elements.length);
    offset = start + raw.readUInt32LE(offset);
    elements.push(raw.subarray(start, offset));
  }
  return elements;
}

/**
 * Checks that raw holds exactly `count` framed elements and nothing else, without allocating.
 * Runs once per BYTES tensor on the hot path, so it only walks the length prefixes.
 */
export function checkBytesFraming(side: TensorSide, tensorName: string, raw: Buffer, count: number, shapeText: string): void {
  const end = raw.length;
  if (count * 4 > end) {
    throw tensorFault(side, tensorName, 'shape',
      `BYTES shape ${shapeText} needs ${count} elements (at least ${count * 4} bytes), got ${end} bytes`);
  }
  let offset = 0;
  for (let index = 0; index < count; index++) {
    if (offset === end) {
      throw tensorFault(side, tensorName, 'shape', `BYTES shape ${shapeText} needs ${count} elements, got ${index}`);
    }
    const start = frameStart(side, tensorName, raw, offset, index);
    offset = start + raw.readUInt32LE(offset);
  }
  if (offset !== end) {
    throw tensorFault(side, tensorName, 'shape',
      `BYTES shape ${shapeText} needs ${count} elements, but ${end - offset} bytes follow the last of them`);
  }
}

/** Offset of element `index`'s first byte, after checking its length prefix and body both fit. */
function frameStart(side: TensorSide, tensorName: string, raw: Buffer, offset: number, index: number): number {
  if (offset + 4 > raw.length) {
    throw tensorFault(side, tensorName, 'shape',
      `BYTES element ${index} is truncated: its 4-byte length starts at byte ${offset} of ${raw.length}`);
  }
  const start = offset + 4;
  const length = raw.readUInt32LE(offset);
  if (start + length > raw.length) {
    throw tensorFault(side, tensorName, 'shape',
      `BYTES element ${index} is truncated: it declares ${length} bytes but only ${raw.length - start} remain`);
  }
  return start;
}

/** Frames elements into one buffer, sized up front so there is a single allocation and one copy per element. */
export function joinBytesElements(elements: readonly (Buffer | Uint8Array)[]): Buffer {
  let total = 0;
  for (let i = 0; i < elements.length; i++) total += 4 + (elements[i] as Uint8Array).length;
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let i = 0; i < elements.length; i++) {
    const element = elements[i] as Uint8Array;
    if (element.length > MAX_ELEMENT_BYTES) {
      throw new SwitchyardError('SWY_ERR_INTERNAL', `BYTES element ${i} is ${element.length} bytes; the framing allows 2^32-1`);
    }
    out.writeUInt32LE(element.length, offset);
    out.set(element, offset + 4);
    offset += 4 + element.length;
  }
  return out;
}
