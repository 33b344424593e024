// One client ModelStreamInfer call against a real ModelRouter over a fake cluster: every request
// routed on its own upstream stream, responses relayed with the client's ids and model name, the
// call ended only after half-close and the last response, in-band errors or (triton_grpc_error)
// the status, and a client cancel reaching every upstream call.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { InFlightLimit } from '../../../../router/admission/in-flight-limit.js';
import { configSchema } from '../../../../router/config/schema.js';
import type { CallContext } from '../../../../router/core/call-context.js';
import type { ModelInferRequest, ModelInferRequest__Output } from '../../../../router/generated/inference/ModelInferRequest.js';
import type { ModelStreamInferResponse } from '../../../../router/generated/inference/ModelStreamInferResponse.js';
import { inferenceProto } from '../../../../router/core/grpc-definitions.js';
import { StreamInferSession, type StreamInferCall } from '../../../../router/listeners/kserve-grpc/stream-infer-session.js';
import { ModelRouter, type ClusterDispatch } from '../../../../router/routing/model-router.js';
import { RouteTable } from '../../../../router/routing/route-table.js';

const modelInfer = inferenceProto().inference.GRPCInferenceService.service.ModelInfer;
const received = (m: ModelInferRequest): ModelInferRequest__Output => modelInfer.requestDeserialize(modelInfer.requestSerialize(m));
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** What the session sees of a grpc-js ServerDuplexStream, recording what it is told. */
class FakeCall extends EventEmitter {
  readonly metadata: Metadata;
  cancelled = false;
  readonly written: ModelStreamInferResponse[] = [];
  initial: Metadata | undefined;
  ended: Metadata | undefined;
  status: { code: number; details: string; metadata: Metadata } | undefined;

  constructor(entries: Record<string, string> = {}) {
    super();
    this.metadata = new Metadata();
    for (const [k, v] of Object.entries(entries)) this.metadata.set(k, v);
    this.on('error', (err) => (this.status = err));
  }
  getDeadline() {
    return Infinity;
  }
  sendMetadata(md: Metadata) {
    this.initial = md;
  }
  write(message: ModelStreamInferResponse) {
    this.written.push(message);
    return true;
  }
  end(trailers?: Metadata) {
    this.ended = trailers ?? new Metadata();
  }
  send(request: ModelInferRequest) {
    this.emit('data', received(request));
  }
}

/** A function, so a check does not narrow `ended` for the rest of the test. */
const stillOpen = (call: FakeCall): boolean => call.ended === undefined;

interface Upstream {
  readonly request: ModelInferRequest;
  readonly ctx: CallContext;
  readonly stream: PassThrough;
}

/** Each streamInfer opens a fake upstream stream the test feeds. */
class FakeCluster implements ClusterDispatch {
  readonly upstreams: Upstream[] = [];
  async streamInfer(request: ModelInferRequest, ctx: CallContext) {
    const stream = new PassThrough({ objectMode: true });
    this.upstreams.push({ request, ctx, stream });
    return stream;
  }
  infer(): never {
    throw new Error('not used');
  }
  generate(): never {
    throw new Error('not used');
  }
  async modelReady() {
    return true;
  }
  modelMetadata(): never {
    throw new Error('not used');
  }
  modelConfig(): never {
    throw new Error('not used');
  }
  modelStatistics(): never {
    throw new Error('not used');
  }
  snapshot() {
    return {};
  }
}

function setup(callMetadata: Record<string, string> = {}, maxInFlight = 10) {
  const config = configSchema.parse({
    clusters: { dev: { backend: 'triton-grpc', endpoints: ['127.0.0.1:1'] } },
    models: { llm: { split: [{ name: 'stable', cluster: 'dev', upstreamModel: 'tiny_llm_v1' }] } },
  });
  const cluster = new FakeCluster();
  const router = new ModelRouter(new RouteTable(config.models), new Map([['dev', cluster]]));
  const admission = new InFlightLimit(maxInFlight);
  const call = new FakeCall(callMetadata);
  let closed = 0;
  const logger = pino({ level: 'silent' }) as FastifyBaseLogger;
  const session = new StreamInferSession(call as unknown as StreamInferCall, { router, admission, logger, limits: { maxTensorElements: 100 } }, () => closed++);
  return { call, cluster, session, admission, closedCount: () => closed };
}

const request = (id: string, model = 'llm'): ModelInferRequest => ({
  model_name: model,
  id,
  inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from(id)] } }],
});

const response = (id: string, final: boolean) => ({
  error_message: '',
  infer_response: { model_name: 'tiny_llm_v1', model_version: '1', id, parameters: { triton_final_response: { bool_param: final } }, outputs: [], raw_output_contents: [] },
});

describe('StreamInferSession', () => {
  test('each request on its own upstream stream; responses relayed as they come; the call ends after half-close and the last response', async () => {
    const { call, cluster, admission, closedCount } = setup({ 'x-request-id': 'req-7' });
    assert.equal(call.initial?.get('x-request-id')[0], 'req-7');
    call.send(request('a'));
    call.send(request('b'));
    await flush();
    assert.equal(cluster.upstreams.length, 2);
    assert.equal(admission.current, 2);
    const [a, b] = cluster.upstreams as [Upstream, Upstream];
    // Upstream names and raw contents only; the client's id kept.
    assert.equal(a.request.model_name, 'tiny_llm_v1');
    assert.equal(a.request.id, 'a');
    assert.deepEqual(a.request.raw_input_contents, [Buffer.from([1, 0, 0, 0, 0x61])]);
    assert.equal(a.ctx.requestId, 'req-7');
    assert.notEqual(a.ctx.signal, b.ctx.signal, 'per-request cancellation');

    b.stream.write(response('b', false));
    await flush();
    a.stream.write(response('a', false));
    await flush();
    call.emit('end'); // half-close while both are still running
    b.stream.write(response('b', true));
    b.stream.end();
    await flush();
    assert.ok(stillOpen(call), "the call stays open until a's last response");
    a.stream.write(response('a', true));
    a.stream.end();
    await flush();

    assert.deepEqual(call.written.map((m) => [m.infer_response?.id, m.infer_response?.model_name, m.infer_response?.parameters?.['triton_final_response']?.bool_param]), [
      ['b', 'llm', false],
      ['a', 'llm', false],
      ['b', 'llm', true],
      ['a', 'llm', true],
    ]);
    assert.deepEqual(call.ended?.get('x-switchyard-variant'), ['stable']);
    assert.equal(admission.current, 0);
    assert.equal(closedCount(), 1);
  });

  test('errors are in-band by default and the stream stays open', async () => {
    const { call, cluster } = setup();
    call.send(request('bad', 'nope'));
    call.send({ ...request('shape'), inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [2], contents: { bytes_contents: [Buffer.from('x')] } }] });
    call.send(request('good'));
    await flush();
    assert.equal(cluster.upstreams.length, 1);
    const upstream = cluster.upstreams[0] as Upstream;
    upstream.stream.destroy(Object.assign(new Error('boom'), { name: 'SwitchyardError' }));
    await flush();
    call.emit('end');
    await flush();
    const byId = new Map(call.written.map((m) => [m.infer_response?.id, m]));
    assert.match(byId.get('bad')?.error_message ?? '', /unknown model: 'nope'/);
    assert.equal(byId.get('bad')?.infer_response?.parameters?.['triton_final_response']?.bool_param, true);
    assert.match(byId.get('shape')?.error_message ?? '', /input 'text_input': shape \[2\] needs 2 elements/);
    assert.equal(byId.get('good')?.error_message, 'internal error', 'a non-catalogue failure is an internal error');
    assert.equal(call.status, undefined);
    assert.notEqual(call.ended, undefined);
  });

  test('triton_grpc_error: true → the first error ends the stream with its status and cancels the rest', async () => {
    const { call, cluster, admission } = setup({ triton_grpc_error: 'true' });
    call.send(request('a'));
    await flush();
    call.send(request('bad', 'nope'));
    await flush();
    assert.equal(call.status?.code, status.NOT_FOUND);
    assert.match(call.status?.details ?? '', /unknown model/);
    assert.equal(cluster.upstreams[0]?.ctx.signal.aborted, true);
    cluster.upstreams[0]?.stream.write(response('a', true));
    await flush();
    assert.deepEqual(call.written, [], 'nothing is written after the status');
    cluster.upstreams[0]?.stream.end();
    await flush();
    assert.equal(admission.current, 0);
  });

  test('a client cancel aborts every upstream call and writes nothing more', async () => {
    const { call, cluster, closedCount } = setup();
    call.send(request('a'));
    call.send(request('b'));
    await flush();
    cluster.upstreams[0]?.stream.write(response('a', false));
    await flush();
    call.cancelled = true;
    call.emit('cancelled');
    assert.deepEqual(cluster.upstreams.map((u) => u.ctx.signal.aborted), [true, true]);
    cluster.upstreams[1]?.stream.write(response('b', false));
    await flush();
    assert.equal(call.written.length, 1);
    assert.ok(stillOpen(call));
    assert.equal(closedCount(), 1);
  });

  test('admission applies per request; drain ends the call once its requests are answered', async () => {
    const { call, cluster, session } = setup({}, 1);
    call.send(request('a'));
    call.send(request('b'));
    await flush();
    const rejected = call.written.find((m) => m.infer_response?.id === 'b');
    assert.match(rejected?.error_message ?? '', /limit of 1 in-flight/);
    session.drain();
    assert.ok(stillOpen(call), 'a is still running');
    cluster.upstreams[0]?.stream.end(response('a', true));
    await flush();
    assert.notEqual(call.ended, undefined, 'drained without the client half-closing');
  });
});
