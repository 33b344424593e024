// A function through published (x, y) points: linear between neighbours, and beyond the last point
// the last segment's slope continues (a batch larger than any measured one costs proportionally
// more; it is never cheaper). Below the first point the first value holds. Points must be sorted
// by x with non-decreasing y, so the function is monotonic — the profile tests rely on that.

export type Point = readonly [x: number, y: number];

export function piecewiseLinear(points: readonly Point[]): (x: number) => number {
  if (points.length < 2) throw new Error('piecewiseLinear needs at least two points');
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1] as Point;
    const [x1, y1] = points[i] as Point;
    if (!(x1 > x0) || y1 < y0) throw new Error(`piecewiseLinear points must rise: (${x0}, ${y0}) then (${x1}, ${y1})`);
  }
  return (x) => {
    const first = points[0] as Point;
    if (x <= first[0]) return first[1];
    let i = 1;
    while (i < points.length - 1 && x > (points[i] as Point)[0]) i++;
    const [x0, y0] = points[i - 1] as Point;
    const [x1, y1] = points[i] as Point;
    return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
  };
}
