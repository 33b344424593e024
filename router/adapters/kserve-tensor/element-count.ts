// Element count of a shape; the one place the "scalar has one element" rule lives.

/** Product of dims; [] (a scalar) is 1. Past 2^53 the result is inexact but still far above any real buffer. */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (let i = 0; i < shape.length; i++) count *= shape[i] as number;
  return count;
}
