// The models this runtime serves, built from the options, and Triton's name/version lookup:
// unknown model -> NOT_FOUND, version "" or "1" -> the model, other integers -> NOT_FOUND,
// anything else -> INVALID_ARGUMENT.
import type { DevRuntimeOptions } from './cli-options.js';
import type { CostModel } from './cost-model.js';
import { IrisModel } from './models/iris/iris-model.js';
import { TinyLlmModel } from './models/tiny-llm/tiny-llm-model.js';
import { TinyLlmTrtModel } from './models/tiny-llm-trt/tiny-llm-trt-model.js';
import { MODEL_VERSION } from './model-spec.js';
import { invalidArgument, notFound } from './runtime-error.js';
import type { ServedModel } from './served-model.js';

type ModelFactory = (options: DevRuntimeOptions, cost: CostModel) => ServedModel;

const FACTORIES: Record<string, ModelFactory> = {
  iris: (o, cost) => new IrisModel({ instances: o.instances, dynamicBatching: o.dynamicBatching, cost }),
  'tiny-llm': (o, cost) => new TinyLlmModel({ instances: o.instances, maxSequences: o.llmMaxSequences, finalResponse: o.llmFinalResponse, cost }),
  'tiny-llm-trt': (o, cost) => new TinyLlmTrtModel({ instances: o.instances, maxSequences: o.llmMaxSequences, cost }),
};

export const KNOWN_MODELS: readonly string[] = Object.keys(FACTORIES);

export class ModelRepository {
  readonly #models = new Map<string, ServedModel>();

  constructor(options: DevRuntimeOptions, cost: CostModel) {
    for (const name of options.models) {
      const factory = FACTORIES[name];
      if (factory === undefined) throw new Error(`unknown model '${name}'; the dev runtime serves ${KNOWN_MODELS.join(', ')}`);
      this.#models.set(name, factory(options, cost));
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
