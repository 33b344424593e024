// The CLI: flags parse into options, one bad value per flag fails with its name, and main.ts
// exits 2 with the message.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../../loadtests/simulator/main.js';
import { resolveRun } from '../../../loadtests/simulator/resolve-run.js';
import { OptionsError, parseSimulatorArgs } from '../../../loadtests/simulator/simulator-options.js';

describe('parseSimulatorArgs', () => {
  it('parses flags, both --flag value and --flag=value', () => {
    const o = parseSimulatorArgs(['--profile', 'llama3-8b-vllm-a10', '--trace=ramp', '--scale-on', 'queue', '--target', '3', '--seed', '9', '--rate-scale', '0.5', '--max-replicas', '6']);
    assert.equal(o.profile, 'llama3-8b-vllm-a10');
    assert.equal(o.trace, 'ramp');
    assert.equal(o.scaleOn, 'queue');
    assert.equal(o.target, 3);
    assert.equal(o.seed, 9);
    assert.equal(o.rateScale, 0.5);
    assert.equal(o.maxReplicas, 6);
  });

  const bad: [string[], RegExp][] = [
    [['--profile', 'x', '--bogus', '1'], /unknown flag --bogus/],
    [['--trace', 'spike'], /--profile is required/],
    [['--profile', 'x', '--seed', '-1'], /--seed must be an integer/],
    [['--profile', 'x', '--seed', '1.5'], /--seed must be an integer/],
    [['--profile', 'x', '--scale-on', 'cpu'], /--scale-on must be one of/],
    [['--profile', 'x', '--overlay', 'gpu-h100'], /--overlay must be one of/],
    [['--profile', 'x', '--rate-scale', 'lots'], /--rate-scale must be a number/],
    [['--profile', 'x', '--target', '5'], /--target needs --scale-on/],
    [['--profile', 'x', '--no-autoscale', '--scale-on', 'queue'], /--no-autoscale cannot/],
    [['--profile', 'x', '--replicas'], /--replicas needs a value/],
    [['--profile', 'x', 'stray'], /unexpected argument/],
  ];
  for (const [argv, message] of bad) {
    it(`rejects ${argv.join(' ')}`, () => assert.throws(() => parseSimulatorArgs(argv), (e: unknown) => e instanceof OptionsError && message.test(e.message)));
  }

  it('an unknown profile or trace is an OptionsError naming the choices', () => {
    assert.throws(() => resolveRun(parseSimulatorArgs(['--profile', 'gpt-5']), REPO_ROOT), /unknown --profile 'gpt-5' \(one of resnet50-trt-fp16-a10/);
    assert.throws(() => resolveRun(parseSimulatorArgs(['--profile', 'llama3-8b-vllm-a10', '--trace', 'nope']), REPO_ROOT), OptionsError);
  });

  it('--scale-on swaps in one metric and keeps the manifest\'s behavior and bounds', () => {
    const run = resolveRun(parseSimulatorArgs(['--profile', 'resnet50-trt-fp16-a100', '--scale-on', 'gpu-util', '--target', '60']), REPO_ROOT);
    assert.deepEqual(run.config.hpa?.metrics, [{ type: 'Pods', name: 'dcgm_gpu_utilization', target: { type: 'AverageValue', averageValue: 60 } }]);
    assert.equal(run.config.hpa?.maxReplicas, 8);
    assert.equal(run.config.hpa?.behavior?.scaleDown?.stabilizationWindowSeconds, 600);
    // In-flight goes in as deploy/ ships it: the External metric, with the manifest's target.
    const inflight = resolveRun(parseSimulatorArgs(['--profile', 'llama3-8b-vllm-a10', '--scale-on', 'inflight']), REPO_ROOT);
    assert.deepEqual(inflight.config.hpa?.metrics, [{ type: 'External', name: 'switchyard_cluster_requests_in_flight', target: { type: 'AverageValue', averageValue: 8 } }]);
  });
});

describe('main.ts', () => {
  it('exits 2 with a clear message on a bad flag, 0 with usage on --help', () => {
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'loadtests/simulator/main.ts', '--profile', 'x', '--seed', 'abc'], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /simulate: --seed must be an integer/);
    const help = spawnSync(process.execPath, ['--import', 'tsx', 'loadtests/simulator/main.ts', '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--scale-on/);
  });
});
