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
import { TinyLlmGeneration, type FinishReason, type GenerationOptions } from './tiny-llm-generator.js';

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
    const respond = (text: string, finishReason: FinishReason | null, outputTokens: number) =>
      inferResponse(modelName, call.request, plan.outputs(text, finishReason, outputTokens));
    const emptyFinal = plan.stream && plan.finalResponse === 'empty';
    const lease = await this.#scheduler.acquire(1, signal);
    this.#promptTokens += plan.promptTokens;
    const computeStart = process.hrtime.bigint();
    let index = 0;
    let stepStart = computeStart;
    let outputNs = 0n;
    try {
      await sleep(cost.prefillMs(plan.promptTokens), undefined, { signal });
      const generation = new TinyLlmGeneration(plan.prompt, plan.generation);
      while (!generation.finished) {
        await sleep(cost.tokenLatencyMs, undefined, { signal });
        const step = generation.step();
        stats.tokens++;
        if (!plan.stream) continue;
        const inferNs = process.hrtime.bigint() - stepStart;
        const encodeStart = process.hrtime.bigint();
        call.send(respond(step.delta, step.finishReason, 1), step.finishReason !== null && !emptyFinal);
        const encodeNs = process.hrtime.bigint() - encodeStart;
        outputNs += encodeNs;
        stats.response(index++, 'success', inferNs, encodeNs);
        stepStart = process.hrtime.bigint();
      }
      if (emptyFinal) {
        call.sendEmptyFinal();
        stats.response(index++, 'empty_response', 0n, 0n);
      } else if (!plan.stream) {
        const encodeStart = process.hrtime.bigint();
        const full = (plan.prependInput ? plan.prompt : '') + generation.text;
        call.send(respond(full, generation.finishReason, generation.tokens), true);
        const encodeNs = process.hrtime.bigint() - encodeStart;
        outputNs += encodeNs;
        stats.response(index++, 'success', encodeStart - computeStart, encodeNs);
      }
    } catch (err) {
      if (signal.aborted) stats.response(index, 'cancel', process.hrtime.bigint() - stepStart, 0n);
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
      computeInferNs: end - computeStart - outputNs,
      computeOutputNs: outputNs,
    });
  }

  async #runOnEngine(call: InferCall, plan: GenerationPlan, engines: readonly ContinuousBatchingEngine[]): Promise<void> {
    const { modelName, stats } = this.#options;
    const { signal } = call;
    const respond = (text: string, finishReason: FinishReason | null, outputTokens: number) =>
      inferResponse(modelName, call.request, plan.outputs(text, finishReason, outputTokens));
    const emptyFinal = plan.stream && plan.finalResponse === 'empty';
    const engine = engines.reduce((best, e) => (e.load < best.load ? e : best));
    const generation = new TinyLlmGeneration(plan.prompt, plan.generation);
    const enqueuedAt = process.hrtime.bigint();
    let computeStart = enqueuedAt;
    let stepStart = enqueuedAt;
    let index = 0;
    let outputNs = 0n;
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
                const inferNs = process.hrtime.bigint() - stepStart;
                const encodeStart = process.hrtime.bigint();
                call.send(respond(step.delta, step.finishReason, 1), step.finishReason !== null && !emptyFinal);
                const encodeNs = process.hrtime.bigint() - encodeStart;
                outputNs += encodeNs;
                stats.response(index++, 'success', inferNs, encodeNs);
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
      if (emptyFinal) {
        call.sendEmptyFinal();
        stats.response(index++, 'empty_response', 0n, 0n);
      } else if (!plan.stream) {
        const encodeStart = process.hrtime.bigint();
        const full = (plan.prependInput ? plan.prompt : '') + generation.text;
        call.send(respond(full, generation.finishReason, generation.tokens), true);
        const encodeNs = process.hrtime.bigint() - encodeStart;
        outputNs += encodeNs;
        stats.response(index++, 'success', encodeStart - computeStart, encodeNs);
      }
    } catch (err) {
      if (signal.aborted) stats.response(index, 'cancel', process.hrtime.bigint() - stepStart, 0n);
      throw err;
    }
    const end = process.hrtime.bigint();
    stats.executed(1, end - computeStart);
    stats.requestSucceeded({
      batchSize: 1,
      totalNs: end - call.receivedAt,
      queueNs: computeStart - enqueuedAt,
      computeInputNs: 0n,
      computeInferNs: end - computeStart - outputNs,
      computeOutputNs: outputNs,
    });
  }
}
