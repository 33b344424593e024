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

/** Where a cluster's endpoints come from: a static list, or a DNS name re-resolved on an interval. */
const dnsDiscovery = z.strictObject({
  /** A Kubernetes headless Service name (one A/AAAA record per ready pod), or any DNS name. */
  name: z.string().min(1),
  port,
  refreshMs: positiveInt.default(5_000),
  /** A lookup with no answer after this long is reported (the last endpoints stay). */
  timeoutMs: positiveInt.default(2_000),
});

/** Endpoint choice within a cluster (filter → scorer → picker; the filters are health, ejection, breaker). */
const hashKey = z.union([
  z.strictObject({ header: z.string().min(1).transform((h) => h.toLowerCase()) }),
  z.strictObject({ openaiUser: z.literal(true) }),
]);
const picker = z.discriminatedUnion('type', [
  /** Power of two choices over in-flight requests (Envoy LEAST_REQUEST). */
  z.strictObject({ type: z.literal('least-request'), choices: z.number().int().min(2).max(8).default(2) }),
  z.strictObject({ type: z.literal('round-robin') }),
  /** Consistent hashing with bounded load: a key sticks to one endpoint unless it is over loadFactor × average. */
  z.strictObject({ type: z.literal('consistent-hash'), key: hashKey, loadFactor: z.number().min(1).default(1.25) }),
  /** LLM prefix affinity: a hash of the prompt's leading characters picks the endpoint (warm KV cache) unless it is over loadFactor × average. */
  z.strictObject({ type: z.literal('prefix-affinity'), prefixChars: positiveInt.default(256), loadFactor: z.number().min(1).default(1.25) }),
]);

const healthCheck = z.strictObject({
  intervalMs: positiveInt.default(5_000),
  timeoutMs: positiveInt.default(1_000),
  /** Consecutive failed checks before an endpoint is taken out, and passed checks before it is back. */
  unhealthyThreshold: positiveInt.default(2),
  healthyThreshold: positiveInt.default(1),
});

const outlierDetection = z.strictObject({
  /** Consecutive failed requests (transport errors, 5xx-class upstream statuses) before an ejection. */
  consecutiveFailures: positiveInt.default(5),
  /** First ejection lasts this long; each further ejection of the same endpoint lasts one more multiple, up to maxEjectionMs. */
  baseEjectionMs: positiveInt.default(10_000),
  maxEjectionMs: positiveInt.default(300_000),
  /** Never eject more than this share of the cluster's endpoints at once. */
  maxEjectionPercent: z.number().int().min(0).max(100).default(50),
});

const circuitBreaker = z.strictObject({
  /** Requests one endpoint may have in flight; beyond it the endpoint is skipped. */
  maxInFlightPerEndpoint: positiveInt.default(256),
  /** Requests that may wait for a free endpoint when all are at their limit; beyond it → 503 with Retry-After. */
  maxPending: z.number().int().min(0).default(1024),
});

const clusterCommon = {
  /** A static endpoint list; or `discovery`. */
  endpoints: z.array(address).min(1).optional(),
  discovery: z.strictObject({ dns: dnsDiscovery }).optional(),
  picker: picker.default({ type: 'least-request', choices: 2 }),
  healthCheck: healthCheck.default({ intervalMs: 5_000, timeoutMs: 1_000, unhealthyThreshold: 2, healthyThreshold: 1 }),
  outlierDetection: outlierDetection.default({ consecutiveFailures: 5, baseEjectionMs: 10_000, maxEjectionMs: 300_000, maxEjectionPercent: 50 }),
  circuitBreaker: circuitBreaker.default({ maxInFlightPerEndpoint: 256, maxPending: 1024 }),
};

const tritonGrpcCluster = z.strictObject({
  backend: z.literal('triton-grpc'),
  ...clusterCommon,
  /** Largest gRPC message the router sends or accepts from this cluster. */
  maxMessageBytes: positiveInt.default(256 * 1024 * 1024),
});

/** A vLLM (or any OpenAI-compatible) HTTP server: OpenAI requests are forwarded, bytes relayed. */
const openAiHttpCluster = z.strictObject({
  backend: z.literal('openai-http'),
  ...clusterCommon,
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

/** Retries on another endpoint, only before any response byte went to the client. */
const retry = z.strictObject({
  /** Retries after the first attempt (0 = never retry). */
  maxRetries: z.number().int().min(0).max(5).default(2),
  /** Each attempt's own deadline, so a hung replica is left in time to try another (0 = only the request deadline). */
  perTryTimeoutMs: z.number().int().min(0).default(0),
  /** Retries in flight may be at most this share of requests in flight (Envoy's retry budget)… */
  budgetPercent: z.number().min(0).max(100).default(20),
  /** …but this many concurrent retries are always allowed, so a quiet route can still retry. */
  minRetryConcurrency: z.number().int().min(0).default(3),
  /** Full-jitter exponential back-off between attempts. */
  backoffBaseMs: z.number().int().min(0).default(25),
  backoffMaxMs: z.number().int().min(0).default(250),
});

/** A rule that forces a variant when every listed header has the given value. First match wins. */
const matchRule = z.strictObject({
  headers: z.record(z.string().min(1), z.string()).refine((h) => Object.keys(h).length > 0, 'at least one header'),
  variant: z.string().min(1),
});

/** A shadow copy: a share of requests also goes to `to`; its answer is compared and dropped. */
const mirror = z.strictObject({
  to: z.strictObject({
    cluster: z.string().regex(CLUSTER_NAME, 'must be a cluster name'),
    upstreamModel: z.string().min(1).optional(),
    upstreamVersion: z.string().default(''),
  }),
  percent: z.number().min(0).max(100),
});

/** Router-side dynamic batching of V2 infer requests, modelled on Triton's dynamic batcher. */
const batching = z
  .strictObject({
    /** Largest merged batch (rows on dimension 0); capped by the upstream model's max_batch_size. */
    maxBatchSize: z.number().int().min(2).default(32),
    /** How long the first request of a batch may wait for company. */
    maxQueueDelayUs: z.number().int().min(0).default(2_000),
    /** Batch sizes to send as soon as they are reached (each ≤ maxBatchSize). */
    preferredBatchSizes: z.array(z.number().int().min(1)).default([]),
    /** Requests waiting per queue; beyond it → 429 / RESOURCE_EXHAUSTED at once. */
    maxQueueSize: z.number().int().min(1).default(1024),
    /** A request with more rows than maxBatchSize: sent `alone`, or `split` into maxBatchSize pieces. */
    oversize: z.enum(['alone', 'split']).default('alone'),
  })
  .refine((b) => b.preferredBatchSizes.every((n) => n <= b.maxBatchSize), { message: 'must not exceed maxBatchSize', path: ['preferredBatchSizes'] });

const model = z.strictObject({
  split: z.array(variant).min(1),
  /** Merge compatible V2 infer requests into one upstream call per (cluster, upstream model). */
  batching: batching.optional(),
  /** Header rules that force a variant, checked before weights. */
  match: z.array(matchRule).default([]),
  /** Same key → same variant (while the weights stay the same): a header, or the OpenAI `user` field. */
  sticky: hashKey.optional(),
  mirror: mirror.optional(),
  retry: retry.default({ maxRetries: 2, perTryTimeoutMs: 0, budgetPercent: 20, minRetryConcurrency: 3, backoffBaseMs: 25, backoffMaxMs: 250 }),
  /** The request deadline; a client may ask for less with `x-switchyard-timeout-ms`, never for more. */
  timeoutMs: positiveInt.default(60_000),
  /** Present for text-generation models: they are served on /v1 (OpenAI) as well as /v2. */
  llm: llm.optional(),
});

/** A model-name glob: `*` any run of characters (`/` included), `?` one character. */
const modelGlob = z.string().min(1).regex(/^[A-Za-z0-9._:/*?-]+$/, 'must be a model name or a glob of one (* and ? wildcards)');
/** The sha256 of an API key as 64 hex digits (`printf %s "$KEY" | sha256sum`); the key itself is never configured. */
const keyDigest = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be the 64 hex digits of the key\'s sha256 (printf %s "$KEY" | sha256sum)')
  .transform((hex) => hex.toLowerCase());
// Tenant names become metric labels and log fields: a closed, tame alphabet; `_` starts only the router's own labels.
const TENANT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Limits of one tenant (or of one tenant × model glob): sliding 60 s windows and a concurrency bound. */
const limitValues = {
  requestsPerMinute: positiveInt.optional(),
  /** Prompt + completion tokens; a request reserves its estimate at admission and is settled to its real usage. */
  tokensPerMinute: positiveInt.optional(),
  concurrentRequests: positiveInt.optional(),
};

const tenant = z.strictObject({
  /** Models the tenant may use (globs); the default allows every model. */
  models: z.array(modelGlob).min(1).default(['*']),
  limits: z
    .strictObject({
      ...limitValues,
      /** Extra limits per model glob, each shared by every model the glob matches (all matching globs apply). */
      models: z.record(modelGlob, z.strictObject(limitValues)).default({}),
    })
    .default({ models: {} }),
  /** What the tenant pays (for the cost metric and the access log), in USD. */
  price: z
    .strictObject({
      per1kPromptTokens: z.number().min(0).optional(),
      per1kCompletionTokens: z.number().min(0).optional(),
      /** Per answered request (V2 infer; generations too when set). */
      perInference: z.number().min(0).optional(),
    })
    .optional(),
});

const auth = z.strictObject({
  /** Off by default (the `npm start` setup); when on, every client request needs a known key. */
  enabled: z.boolean().default(false),
  keys: z.array(z.strictObject({ sha256: keyDigest, tenant: z.string().min(1) })).default([]),
  /** V2 REST and gRPC also accept the key in this header / metadata key (besides Authorization: Bearer). */
  headerName: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'must be a header name')
    .transform((h) => h.toLowerCase())
    .default('x-api-key'),
  /** A model the tenant may not use: 403 (`forbidden`), or the unknown-model 404 that hides it (`not-found`). */
  unauthorizedModel: z.enum(['forbidden', 'not-found']).default('forbidden'),
  /** The admin listener: with keys, every route but /healthz needs one; without, it is open (bind it to loopback). */
  admin: z.strictObject({ keys: z.array(z.strictObject({ sha256: keyDigest })).default([]) }).default({ keys: [] }),
});

/** Where limit state lives: this process (`memory`), or one Redis shared by every replica. */
const state = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('memory') }),
    z.strictObject({
      kind: z.literal('redis'),
      /** redis://[user:password@]host:port[/db], rediss:// for TLS; `${REDIS_URL}` keeps a password out of the file. */
      url: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL'),
      /** Keys are `swy:<keyPrefix>:…`, so routers of different fleets can share one Redis. */
      keyPrefix: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only').optional(),
      /** Budget of one Redis operation; beyond it the outage policy decides (default 50). */
      opTimeoutMs: positiveInt.optional(),
      /** While Redis is away: `failOpen` (default) = each replica enforces the limits locally; `failClosed` = limited requests get 503. */
      outage: z.enum(['failOpen', 'failClosed']).optional(),
      /** failOpen: the share of each limit one replica enforces locally during an outage (1/replicas approximates the global limit; default 1). */
      localLimitShare: z.number().gt(0).max(1).optional(),
    }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? "must have kind 'memory' or 'redis'" : undefined) },
);

export const configSchema = z
  .strictObject({
    listeners: z
      .strictObject({
        http: listener(8000).default({ host: '127.0.0.1', port: 8000 }),
        /** KServe V2 gRPC (`inference.GRPCInferenceService`) and `grpc.health.v1`. */
        grpc: listener(8001).default({ host: '127.0.0.1', port: 8001 }),
        admin: listener(8002).default({ host: '127.0.0.1', port: 8002 }),
      })
      .default({ http: { host: '127.0.0.1', port: 8000 }, grpc: { host: '127.0.0.1', port: 8001 }, admin: { host: '127.0.0.1', port: 8002 } }),
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
    telemetry: z
      .strictObject({
        /** One JSON line per finished request (request id, trace id, model, variant, endpoint, status, duration). */
        accessLog: z.boolean().default(true),
        tracing: z
          .strictObject({
            enabled: z.boolean().default(false),
            /** OTLP goes to Jaeger's native receiver (4318 HTTP, 4317 gRPC); `jaeger` loads the deprecated thrift exporter only if installed. */
            exporter: z.enum(['otlp-http', 'otlp-grpc', 'jaeger']).default('otlp-http'),
            /** Default: http://localhost:4318/v1/traces (otlp-http), http://localhost:4317 (otlp-grpc). */
            endpoint: z.string().url().optional(),
            /** Share of traces sampled when the caller did not decide (parent-based otherwise). */
            sampleRatio: z.number().min(0).max(1).default(1),
            serviceName: z.string().min(1).default('switchyard'),
          })
          .default({ enabled: false, exporter: 'otlp-http', sampleRatio: 1, serviceName: 'switchyard' }),
      })
      .default({ accessLog: true, tracing: { enabled: false, exporter: 'otlp-http', sampleRatio: 1, serviceName: 'switchyard' } }),
    clusters: z.record(z.string().regex(CLUSTER_NAME, 'cluster names are lower-case letters, digits and -'), cluster),
    models: z.record(z.string().regex(MODEL_NAME, 'model names are letters, digits and . _ : / -'), model),
    /** API keys (as sha256 digests) and who they belong to; see docs/TENANTS.md. */
    auth: auth.default({ enabled: false, keys: [], headerName: 'x-api-key', unauthorizedModel: 'forbidden', admin: { keys: [] } }),
    /** Limit state (tenant limits): memory, or Redis for limits shared across replicas. Needs a restart. */
    state: state.default({ kind: 'memory' }),
    tenants: z.record(z.string().regex(TENANT_NAME, 'tenant names are letters, digits and . _ - (not starting with . _ -), at most 64'), tenant).default({}),
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.auth.keys.forEach((key, i) => {
      if (!Object.hasOwn(config.tenants, key.tenant)) {
        ctx.addIssue({
          code: 'custom',
          path: ['auth', 'keys', i, 'tenant'],
          message: `unknown tenant "${key.tenant}" (defined: ${Object.keys(config.tenants).join(', ') || 'none'})`,
        });
      }
      const first = seen.get(key.sha256);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['auth', 'keys', i, 'sha256'], message: `the same key as auth.keys[${first}]` });
      else seen.set(key.sha256, i);
    });
    for (const [name, c] of Object.entries(config.clusters)) {
      if ((c.endpoints === undefined) === (c.discovery === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['clusters', name, 'endpoints'], message: 'set either endpoints or discovery' });
      }
    }
    for (const [modelName, route] of Object.entries(config.models)) {
      const variantNames = new Set(route.split.map((v, i) => variantName(v, i, route.split.length)));
      route.match.forEach((rule, i) => {
        if (!variantNames.has(rule.variant)) {
          ctx.addIssue({
            code: 'custom',
            path: ['models', modelName, 'match', i, 'variant'],
            message: `unknown variant "${rule.variant}" (variants: ${[...variantNames].join(', ')})`,
          });
        }
      });
      if (route.mirror !== undefined && !Object.hasOwn(config.clusters, route.mirror.to.cluster)) {
        ctx.addIssue({ code: 'custom', path: ['models', modelName, 'mirror', 'to', 'cluster'], message: `unknown cluster "${route.mirror.to.cluster}"` });
      }
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

/** A variant's name: its own, else `default` for a lone variant, else `variant-<index>`. */
export function variantName(variant: { readonly name?: string | undefined }, index: number, count: number): string {
  return variant.name ?? (count === 1 ? 'default' : `variant-${index}`);
}
export type ClusterConfig = Config['clusters'][string];
export type ModelConfig = Config['models'][string];
export type VariantConfig = ModelConfig['split'][number];
export type LimitsConfig = Config['limits'];
export type LlmConfig = NonNullable<ModelConfig['llm']>;
export type PickerConfig = ClusterConfig['picker'];
export type HealthCheckConfig = ClusterConfig['healthCheck'];
export type OutlierDetectionConfig = ClusterConfig['outlierDetection'];
export type CircuitBreakerConfig = ClusterConfig['circuitBreaker'];
export type RetryConfig = ModelConfig['retry'];
export type MirrorConfig = NonNullable<ModelConfig['mirror']>;
export type HashKeyConfig = NonNullable<ModelConfig['sticky']>;
export type BatchingConfig = NonNullable<ModelConfig['batching']>;
export type TelemetryConfig = Config['telemetry'];
export type TracingConfig = TelemetryConfig['tracing'];
export type AuthConfig = Config['auth'];
export type StateConfig = Config['state'];
export type TenantConfig = Config['tenants'][string];
export type TenantLimitsConfig = TenantConfig['limits'];
export type TenantPriceConfig = NonNullable<TenantConfig['price']>;
