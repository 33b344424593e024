// Runs one TinyLlmGeneration the way a decoupled Triton LLM model does, for every model built on
// the generator (tiny-llm, tiny-llm-trt), so cost, concurrency, cancellation and statistics stay
// one behaviour: a sequence slot out of `instances * maxSequences` (FIFO beyond), prefill, one
// token per token latency, a response per token or one at the end, generation stopped at once
// when the client cancels, and Triton's statistics (tokens, response_stats, compute times).
// A model keeps only what differs: reading its tensor contract, the generator options (stop-string
// handling), the outputs of a response and how its stream ends.
// With `engines` (a calibrated LLM profile) the sequence runs on a ContinuousBatchingEngine
// instead: tokens come at the engine's steps, admission is bounded by max_num_seqs and the KV
// cache; the engine with the least work (queued + running) takes each new sequence.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RawTensor } from '../../../../router/adapters/kserve-tensor/index.js';
import type { LlmFinalResponse } from '../../cli-options.js';
import type { CostModel } from '../../cost-model.js';
import { inferResponse } from '../../infer-response.js';
import type { ContinuousBatchingEngine } from '../../engine/continuous-batching-engine.js';
import { InstanceScheduler } from '../../instance-scheduler.js';
import type { ModelStats } from '../../model-statistics.js';
import type { InferCall, VllmEngineLoad } from '../../served-model.js';
import { TinyLlmGeneration, type FinishReason, type GenerationOptions, type GenerationStep } from './tiny-llm-generator.js';

export interface GenerationRunnerOptions {
  modelName: string;
  /** The model's statistics; the runner records successes, responses and tokens in them. */
  stats: ModelStats;
  instances: number;
  maxSequences: number;
  cost: CostModel;
  /** A calibrated LLM profile's engines, one per instance; unset = per-sequence latency slots. */
  engines?: readonly ContinuousBatchingEngine[] | undefined;
}

/** One request as its model read it: what to generate and how to answer. */
export interface GenerationPlan {
  prompt: string;
  promptTokens: number;
  stream: boolean;
  /** Non-streaming only: the prompt goes before the generated text. */
  prependInput: boolean;
  generation: GenerationOptions;
  /**
   * How a stream ends: `with-outputs`, the last token's response is final; `empty`, it is not and
   * a flags-only final follows (delivered only if the request opted in).
   */
  finalResponse: LlmFinalResponse;
  /** The outputs of one response: a token's delta (outputTokens 1), or the whole text. */
  outputs(text: string, finishReason: FinishReason | null, outputTokens: number): RawTensor[];
}

/** One request's responses and their Triton statistics, written the same way on both paths. */
class ResponseRecorder {
  /** Index of the next response (response_stats are per index). */
  index = 0;
  /** Time spent encoding and sending responses. */
  outputNs = 0n;
  readonly #modelName: string;
  readonly #stats: ModelStats;
  readonly #call: InferCall;
  readonly #plan: GenerationPlan;
  readonly #emptyFinal: boolean;

  constructor(modelName: string, stats: ModelStats, call: InferCall, plan: GenerationPlan) {
    this.#modelName = modelName;
    this.#stats = stats;
    this.#call = call;
    this.#plan = plan;
    this.#emptyFinal = plan.stream && plan.finalResponse === 'empty';
  }

  #send(text: string, finishReason: FinishReason | null, outputTokens: number, final: boolean): bigint {
    const encodeStart = process.hrtime.bigint();
    this.#call.send(inferResponse(this.#modelName, this.#call.request, this.#plan.outputs(text, finishReason, outputTokens)), final);
    const encodeNs = process.hrtime.bigint() - encodeStart;
    this.outputNs += encodeNs;
    return encodeNs;
  }

  /** A streamed token's response; `inferNs` is the time it took since the previous one. */
  token(step: GenerationStep, inferNs: bigint): void {
    const encodeNs = this.#send(step.delta, step.finishReason, 1, step.finishReason !== null && !this.#emptyFinal);
    this.#stats.response(this.index++, 'success', inferNs, encodeNs);
  }

  /** After the last token: the flags-only final of a stream, or the whole text of a non-streaming request. */
  finish(generation: TinyLlmGeneration, computeStart: bigint): void {
    if (this.#emptyFinal) {
      this.#call.sendEmptyFinal();
      this.#stats.response(this.index++, 'empty_response', 0n, 0n);
    } else if (!this.#plan.stream) {
      const started = process.hrtime.bigint();
      const full = (this.#plan.prependInput ? this.#plan.prompt : '') + generation.text;
      const encodeNs = this.#send(full, generation.finishReason, generation.tokens, true);
      this.#stats.response(this.index++, 'success', started - computeStart, encodeNs);
    }
  }

  /** The client went away; `since` is when the response in progress started. */
  cancelled(since: bigint): void {
    this.#stats.response(this.index, 'cancel', process.hrtime.bigint() - since, 0n);
  }
}

export class GenerationRunner {
  readonly #options: GenerationRunnerOptions;
  readonly #scheduler: InstanceScheduler;
  /** Prompt tokens of sequences that started generating (the slot path; engines count their own). */
  #promptTokens = 0;

  constructor(options: GenerationRunnerOptions) {
    this.#options = options;
    const { stats } = options;
    this.#scheduler = new InstanceScheduler({
      instances: options.instances * options.maxSequences,
      maxMergedBatch: 0,
      onExecution: (batchSize, computeNs) => stats.executed(batchSize, computeNs),
    });
    const { engines } = options;
    stats.pendingGauge = engines === undefined ? () => this.#scheduler.pending : () => engines.reduce((n, e) => n + e.waiting, 0);
  }

  /** vLLM's load view: one entry per engine, or the slot scheduler as one engine without KV. */
  load(): VllmEngineLoad[] {
    const { engines, stats } = this.#options;
    if (engines === undefined) {
      return [{ running: this.#scheduler.running, waiting: this.#scheduler.pending, kvCacheUsage: 0, promptTokens: this.#promptTokens, generationTokens: stats.tokens, preemptions: 0 }];
    }
    return engines.map((e) => ({
      running: e.running, waiting: e.waiting, kvCacheUsage: e.kvUsage,
      promptTokens: e.counters.promptTokens, generationTokens: e.counters.generationTokens, preemptions: e.counters.preemptions,
    }));
  }

  /** Resolves once the final response went out; rejects on abort (counted as a cancelled response). */
  async run(call: InferCall, plan: GenerationPlan): Promise<void> {
    const { engines } = this.#options;
    if (engines !== undefined) return this.#runOnEngine(call, plan, engines);
    const { modelName, stats, cost } = this.#options;
    const { signal } = call;
    const responses = new ResponseRecorder(modelName, stats, call, plan);
    const lease = await this.#scheduler.acquire(1, signal);
    this.#promptTokens += plan.promptTokens;
    const computeStart = process.hrtime.bigint();
    let stepStart = computeStart;
    try {
      await sleep(cost.prefillMs(plan.promptTokens), undefined, { signal });
      const generation = new TinyLlmGeneration(plan.prompt, plan.generation);
      while (!generation.finished) {
        await sleep(cost.tokenLatencyMs, undefined, { signal });
        const step = generation.step();
        stats.tokens++;
        if (!plan.stream) continue;
        responses.token(step, process.hrtime.bigint() - stepStart);
        stepStart = process.hrtime.bigint();
      }
      responses.finish(generation, computeStart);
    } catch (err) {
      if (signal.aborted) responses.cancelled(stepStart);
      throw err;
    } finally {
      lease.release();
    }
    const end = process.hrtime.bigint();
    stats.requestSucceeded({
      batchSize: 1,
      totalNs: end - call.receivedAt,
      queueNs: lease.queueNs,
      computeInputNs: 0n,
      computeInferNs: end - computeStart - responses.outputNs,
      computeOutputNs: responses.outputNs,
    });
  }

  async #runOnEngine(call: InferCall, plan: GenerationPlan, engines: readonly ContinuousBatchingEngine[]): Promise<void> {
    const { modelName, stats } = this.#options;
    const { signal } = call;
    const responses = new ResponseRecorder(modelName, stats, call, plan);
    const engine = engines.reduce((best, e) => (e.load < best.load ? e : best));
    const generation = new TinyLlmGeneration(plan.prompt, plan.generation);
    const enqueuedAt = process.hrtime.bigint();
    let computeStart = enqueuedAt;
    let stepStart = enqueuedAt;
    try {
      await new Promise<void>((resolve, reject) => {
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        const onAbort = (): void => {
          sequence.cancel();
          reject(signal.reason);
        };
        const sequence = engine.submit({
          promptTokens: plan.promptTokens,
          maxTokens: plan.promptTokens + plan.generation.maxTokens,
          onAdmitted: () => {
            computeStart = process.hrtime.bigint();
            stepStart = computeStart;
          },
          onToken: () => {
            try {
              const step = generation.step();
              stats.tokens++;
              if (plan.stream) {
                responses.token(step, process.hrtime.bigint() - stepStart);
                stepStart = process.hrtime.bigint();
              }
              if (!generation.finished) return false;
              signal.removeEventListener('abort', onAbort);
              resolve();
              return true;
            } catch (err) {
              signal.removeEventListener('abort', onAbort);
              reject(err);
              return true;
            }
          },
        });
        signal.addEventListener('abort', onAbort, { once: true });
      });
      responses.finish(generation, computeStart);
    } catch (err) {
      if (signal.aborted) responses.cancelled(stepStart);
      throw err;
    }
    const end = process.hrtime.bigint();
    stats.executed(1, end - computeStart);
    stats.requestSucceeded({
      batchSize: 1,
      totalNs: end - call.receivedAt,
      queueNs: computeStart - enqueuedAt,
      computeInputNs: 0n,
      computeInferNs: end - computeStart - responses.outputNs,
      computeOutputNs: responses.outputNs,
    });
  }
}
