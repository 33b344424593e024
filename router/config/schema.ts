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

const cluster = z.strictObject({
  backend: z.literal('triton-grpc'),
  endpoints: z.array(address).min(1),
  /** Largest gRPC message the router sends or accepts from this cluster. */
  maxMessageBytes: positiveInt.default(256 * 1024 * 1024),
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

const model = z.strictObject({
  split: z.array(variant).min(1),
  timeoutMs: positiveInt.default(60_000),
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
