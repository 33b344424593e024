// The models this runtime serves, built from the options, and Triton's name/version lookup:
// unknown model -> NOT_FOUND, version "" or "1" -> the model, other integers -> NOT_FOUND,
// anything else -> INVALID_ARGUMENT. `resnet50` and `llama3` exist only under a matching
// calibrated profile (--profile), which sets their cost and limits.
import type { DevRuntimeOptions } from './cli-options.js';
import type { CostModel } from './cost-model.js';
import { ContinuousBatchingEngine } from './engine/continuous-batching-engine.js';
import type { EngineClock } from './engine/engine-clock.js';
import { GpuBusyMeter } from './engine/gpu-busy-meter.js';
import { IrisModel } from './models/iris/iris-model.js';
import { Resnet50Model } from './models/resnet50/resnet50-model.js';
import { TinyLlmModel } from './models/tiny-llm/tiny-llm-model.js';
import { TinyLlmTrtModel } from './models/tiny-llm-trt/tiny-llm-trt-model.js';
import { MODEL_VERSION } from './model-spec.js';
import { PROFILES, type GpuProfile } from './profiles/index.js';
import { invalidArgument, notFound } from './runtime-error.js';
import type { ServedModel } from './served-model.js';

/** What models are built with besides the options: the cost model, the profile, the GPU. */
export interface ModelContext {
  cost: CostModel;
  /** Set with --profile. */
  profile?: GpuProfile | undefined;
  /** The one simulated GPU; profile models keep it busy while they compute. */
  gpu: GpuBusyMeter;
  clock?: EngineClock | undefined;
}

type ModelFactory = (options: DevRuntimeOptions, context: ModelContext) => ServedModel;

function profileMismatch(model: string, kind: 'vision' | 'LLM'): Error {
  const names = PROFILES.filter((p) => p.model === model).map((p) => p.name);
  return new Error(`model '${model}' needs ${kind === 'LLM' ? 'an' : 'a'} ${kind} profile: --profile ${names.join(' | ')}`);
}

const FACTORIES: Record<string, ModelFactory> = {
  iris: (o, { cost }) => new IrisModel({ instances: o.instances, dynamicBatching: o.dynamicBatching, cost }),
  'tiny-llm': (o, { cost }) => new TinyLlmModel({ instances: o.instances, maxSequences: o.llmMaxSequences, finalResponse: o.llmFinalResponse, cost }),
  'tiny-llm-trt': (o, { cost }) => new TinyLlmTrtModel({ instances: o.instances, maxSequences: o.llmMaxSequences, cost }),
  resnet50: (o, { profile, gpu }) => {
    if (profile?.kind !== 'vision') throw profileMismatch('resnet50', 'vision');
    return new Resnet50Model({ profile, instances: o.instances, gpu });
  },
  llama3: (o, { cost, profile, gpu, clock }) => {
    if (profile?.kind !== 'llm') throw profileMismatch('llama3', 'LLM');
    // One vLLM engine (scheduler loop) per instance, each its own continuous batch.
    const engines = Array.from({ length: o.instances }, () => new ContinuousBatchingEngine({
      cost: profile,
      limits: { maxNumSeqs: profile.maxNumSeqs, kvCacheTokens: profile.kvCacheTokens, kvBlockTokens: profile.kvBlockTokens },
      clock,
      onBusy: (busy) => (busy ? gpu.begin() : gpu.end()),
    }));
    return new TinyLlmModel({
      name: 'llama3', instances: o.instances, maxSequences: profile.maxNumSeqs, finalResponse: o.llmFinalResponse, cost, engines, maxModelLen: profile.maxModelLen,
    });
  },
};

export const KNOWN_MODELS: readonly string[] = Object.keys(FACTORIES);

export class ModelRepository {
  readonly #models = new Map<string, ServedModel>();
  readonly gpu: GpuBusyMeter;
  readonly profile: GpuProfile | undefined;

  constructor(options: DevRuntimeOptions, cost: CostModel, context: Partial<Omit<ModelContext, 'cost'>> = {}) {
    this.gpu = context.gpu ?? new GpuBusyMeter(context.clock);
    this.profile = context.profile;
    for (const name of options.models) {
      const factory = FACTORIES[name];
      if (factory === undefined) throw new Error(`unknown model '${name}'; the dev runtime serves ${KNOWN_MODELS.join(', ')}`);
      this.#models.set(name, factory(options, { cost, profile: this.profile, gpu: this.gpu, clock: context.clock }));
    }
  }

  list(): ServedModel[] {
    return [...this.#models.values()];
  }

  get(name: string): ServedModel | undefined {
    return this.#models.get(name);
  }

  /** Throws Triton's errors for an unknown model or version. */
  resolve(name: string, version: string): ServedModel {
    const model = this.#models.get(name);
    if (version !== '' && !/^-?[0-9]+$/.test(version)) {
      throw invalidArgument(`failed to get model version from specified version string '${version}', version should be an integral value > 0`);
    }
    if (model === undefined) throw notFound(`Request for unknown model: '${name}' is not found`);
    if (version !== '' && version !== MODEL_VERSION) throw notFound(`Request for unknown model: '${name}' version ${version} is not found`);
    return model;
  }

  /** ModelReady semantics: unknown model or version is simply not ready. */
  isReady(name: string, version: string): boolean {
    return this.#models.has(name) && (version === '' || version === MODEL_VERSION);
  }
}
