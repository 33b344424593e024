// The one configuration schema: validated once at load, and the TypeScript types are inferred from it.
import { z } from 'zod';

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;
const CLUSTER_NAME = /^[a-z0-9][a-z0-9-]*$/;
// host:port with a DNS name, IPv4 or bracketed IPv6 host.
const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

const port = z.number().int().min(0).max(65535);
const positiveInt = z.number().int().positive();

const listener = (defaultPort: number) =>
  z.strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: port.default(defaultPort),
  });

const address = z
  .string()
  .regex(ADDRESS, 'must be host:port')
  .refine((value) => Number(ADDRESS.exec(value)?.[2]) <= 65535, 'port must be at most 65535');

const tritonGrpcCluster = z.strictObject({
  backend: z.literal('triton-grpc'),
  endpoints: z.array(address).min(1),
  /** Largest gRPC message the router sends or accepts from this cluster. */
  maxMessageBytes: positiveInt.default(256 * 1024 * 1024),
});

/** A vLLM (or any OpenAI-compatible) HTTP server: OpenAI requests are forwarded, bytes relayed. */
const openAiHttpCluster = z.strictObject({
  backend: z.literal('openai-http'),
  endpoints: z.array(address).min(1),
  /** Sent as `Authorization: Bearer …` (vLLM's --api-key). */
  apiKey: z.string().min(1).optional(),
});

const cluster = z.discriminatedUnion('backend', [tritonGrpcCluster, openAiHttpCluster], {
  error: (issue) => (issue.code === 'invalid_union' ? "must have backend 'triton-grpc' or 'openai-http'" : undefined),
});

const variant = z.strictObject({
  name: z.string().min(1).optional(),
  cluster: z.string().regex(CLUSTER_NAME, 'must be a cluster name'),
  /** The model name the upstream knows; defaults to the client-facing model name. */
  upstreamModel: z.string().min(1).optional(),
  /** The upstream version to ask for when the client names none ('' = the upstream's policy). */
  upstreamVersion: z.string().default(''),
  weight: z.number().positive().default(1),
});

/** Text generation: what the OpenAI listener needs to serve the model. */
const llm = z
  .strictObject({
    /** How Triton variants want their tensors (ignored by openai-http clusters, which speak OpenAI). */
    profile: z.enum(['vllm-backend', 'trtllm-ensemble']).default('vllm-backend'),
    /** Jinja chat template (Hugging Face tokenizer_config.json dialect); ChatML when neither is set. */
    chatTemplate: z.string().min(1).optional(),
    /** A file holding the template, relative to the config file; read at load time. */
    chatTemplateFile: z.string().min(1).optional(),
    /** Variables the template sees besides messages (bos_token, eos_token, …). */
    templateVariables: z.record(z.string(), z.string()).default({}),
    /** max_tokens when the client sends none (chat; legacy completions default to 16 as OpenAI's do). */
    defaultMaxTokens: positiveInt.default(256),
    /** Largest max_tokens a client may ask for. */
    maxTokens: positiveInt.default(4096),
    /** Most messages in one chat request, and most prompt characters: bounds on client input. */
    maxMessages: positiveInt.default(256),
    maxPromptChars: positiveInt.default(1_000_000),
  })
  .refine((l) => !(l.chatTemplate !== undefined && l.chatTemplateFile !== undefined), {
    message: 'set chatTemplate or chatTemplateFile, not both',
    path: ['chatTemplateFile'],
  })
  .refine((l) => l.defaultMaxTokens <= l.maxTokens, { message: 'must not exceed maxTokens', path: ['defaultMaxTokens'] });

const model = z.strictObject({
  split: z.array(variant).min(1),
  timeoutMs: positiveInt.default(60_000),
  /** Present for text-generation models: they are served on /v1 (OpenAI) as well as /v2. */
  llm: llm.optional(),
});

export const configSchema = z
  .strictObject({
    listeners: z
      .strictObject({
        http: listener(8000).default({ host: '127.0.0.1', port: 8000 }),
        admin: listener(8002).default({ host: '127.0.0.1', port: 8002 }),
      })
      .default({ http: { host: '127.0.0.1', port: 8000 }, admin: { host: '127.0.0.1', port: 8002 } }),
    limits: z
      .strictObject({
        maxBodyBytes: positiveInt.default(64 * 1024 * 1024),
        maxTensorElements: positiveInt.default(16 * 1024 * 1024),
        maxInFlight: positiveInt.default(1024),
      })
      .default({ maxBodyBytes: 64 * 1024 * 1024, maxTensorElements: 16 * 1024 * 1024, maxInFlight: 1024 }),
    /** Milliseconds to let in-flight requests finish after SIGTERM before connections are closed. */
    drainTimeoutMs: z.number().int().min(0).default(30_000),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    clusters: z.record(z.string().regex(CLUSTER_NAME, 'cluster names are lower-case letters, digits and -'), cluster),
    models: z.record(z.string().regex(MODEL_NAME, 'model names are letters, digits and . _ : / -'), model),
  })
  .superRefine((config, ctx) => {
    for (const [modelName, route] of Object.entries(config.models)) {
      route.split.forEach((v, i) => {
        if (!Object.hasOwn(config.clusters, v.cluster)) {
          ctx.addIssue({
            code: 'custom',
            path: ['models', modelName, 'split', i, 'cluster'],
            message: `unknown cluster "${v.cluster}" (defined: ${Object.keys(config.clusters).join(', ') || 'none'})`,
          });
        }
      });
      const names = route.split.map((v) => v.name).filter((n): n is string => n !== undefined);
      if (new Set(names).size !== names.length) {
        ctx.addIssue({ code: 'custom', path: ['models', modelName, 'split'], message: 'variant names must be unique' });
      }
    }
  });

export type Config = z.infer<typeof configSchema>;
export type ClusterConfig = Config['clusters'][string];
export type ModelConfig = Config['models'][string];
export type VariantConfig = ModelConfig['split'][number];
export type LimitsConfig = Config['limits'];
export type LlmConfig = NonNullable<ModelConfig['llm']>;
