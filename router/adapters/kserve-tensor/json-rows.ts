// Checks a JSON tensor's data against its shape and yields it as row-major runs, without copying elements.
import { elementCount } from './element-count.js';
import { describeValue, formatShape, tensorFault, type TensorSide } from './tensor-fault.js';

/**
 * Flat data is one run; nested data (natural shape) is one run per innermost array, in row-major order.
 * Nested data must follow the shape at every level; scalars found where an array belongs (or the reverse,
 * caught later by the element writers) are shape errors.
 */
export function jsonRows(
  side: TensorSide, tensorName: string, shape: readonly number[], data: unknown,
): readonly (readonly unknown[])[] {
  if (!Array.isArray(data)) {
    throw tensorFault(side, tensorName, 'field', `data must be an array, got ${describeValue(data)}`);
  }
  if (shape.length < 2 || data.length === 0 || !Array.isArray(data[0])) {
    const count = elementCount(shape);
    if (data.length !== count) {
      throw tensorFault(side, tensorName, 'shape',
        `shape ${formatShape(shape)} needs ${count} elements, data has ${data.length}`);
    }
    return [data];
  }
  const rows: unknown[][] = [];
  collect(side, tensorName, shape, data, 0, 'data', rows);
  return rows;
}

function collect(
  side: TensorSide, tensorName: string, shape: readonly number[],
  level: unknown[], depth: number, path: string, rows: unknown[][],
): void {
  const expected = shape[depth] as number;
  if (level.length !== expected) {
    throw tensorFault(side, tensorName, 'shape',
      `data nesting does not match shape ${formatShape(shape)}: ${path} has ${level.length} entries, expected ${expected}`);
  }
  if (depth === shape.length - 1) {
    rows.push(level);
    return;
  }
  for (let i = 0; i < level.length; i++) {
    const child: unknown = level[i];
    if (!Array.isArray(child)) {
      throw tensorFault(side, tensorName, 'shape',
        `data nesting does not match shape ${formatShape(shape)}: ${path}[${i}] is ${describeValue(child)}, expected an array`);
    }
    collect(side, tensorName, shape, child, depth + 1, `${path}[${i}]`, rows);
  }
}
