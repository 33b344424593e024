// Trace files: every shipped trace loads; the format is closed and validated with the offending
// path; rates interpolate linearly; thinning gives the trace's integral of arrivals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../../loadtests/simulator/main.js';
import { PoissonArrivals } from '../../../loadtests/simulator/poisson-arrivals.js';
import { SeededRandom } from '../../../loadtests/simulator/seeded-random.js';
import { loadTrace, meanRate, parseTrace, rateAt, scaleTrace, TRACE_NAMES, traceDuration, TraceError, tracePeak } from '../../../loadtests/simulator/trace.js';

describe('shipped traces', () => {
  for (const name of TRACE_NAMES) {
    it(`${name}.json loads: 1–3 simulated hours, peak 100 requests/s nominal`, () => {
      const t = loadTrace(REPO_ROOT, name);
      assert.equal(t.name, name);
      assert.ok(traceDuration(t) >= 3600 && traceDuration(t) <= 3 * 3600, `duration ${traceDuration(t)}`);
      assert.equal(tracePeak(t), 100);
    });
  }
});

describe('parseTrace', () => {
  const good = { name: 'x', description: 'd', unit: 'requests/s', points: [[0, 1], [10, 3]] };
  it('interpolates, integrates and scales', () => {
    const t = parseTrace(good);
    assert.equal(rateAt(t, 5), 2);
    assert.equal(rateAt(t, 11), 0);
    assert.equal(meanRate(t, 0, 10), 2);
    assert.equal(rateAt(scaleTrace(t, 10), 5), 20);
  });

  const bad: [string, unknown, RegExp][] = [
    ['unknown key', { ...good, extra: 1 }, /trace\.extra: unknown key/],
    ['wrong unit', { ...good, unit: 'rps' }, /unit/],
    ['one point', { ...good, points: [[0, 1]] }, /at least two/],
    ['not starting at 0', { ...good, points: [[1, 1], [2, 1]] }, /points\[0\]/],
    ['time not increasing', { ...good, points: [[0, 1], [0, 2]] }, /points\[1\]: t must increase/],
    ['negative rate', { ...good, points: [[0, 1], [5, -1]] }, /points\[1\]: rate/],
    ['not a pair', { ...good, points: [[0, 1], [5]] }, /points\[1\]/],
  ];
  for (const [what, value, message] of bad) {
    it(`rejects ${what}`, () => assert.throws(() => parseTrace(value), (e: unknown) => e instanceof TraceError && message.test(e.message)));
  }

  it('a missing file is a TraceError naming it', () => {
    assert.throws(() => loadTrace(REPO_ROOT, '/nonexistent/trace.json'), /nonexistent\/trace\.json/);
  });
});

describe('PoissonArrivals (thinning)', () => {
  it('the count over the spike trace matches its integral within 6σ, and the spike window is 4× denser', () => {
    const trace = loadTrace(REPO_ROOT, 'spike');
    const arrivals = new PoissonArrivals(trace, new SeededRandom(11));
    let n = 0;
    let inSpike = 0;
    let last = -1;
    for (let t = arrivals.next(); t !== undefined; t = arrivals.next()) {
      assert.ok(t > last);
      last = t;
      n++;
      if (t >= 1900 && t < 2600) inSpike++;
    }
    const expected = meanRate(trace, 0, traceDuration(trace)) * traceDuration(trace);
    assert.ok(Math.abs(n - expected) < 6 * Math.sqrt(expected), `${n} arrivals vs ${expected}`);
    assert.ok(Math.abs(inSpike - 70_000) < 6 * Math.sqrt(70_000), `${inSpike} in the spike vs 70000`);
  });
});
