// Loads protos/ once with the options every gRPC peer in this project shares (snake_case fields,
// int64 as decimal strings, enums as names, proto3 defaults filled, oneof member names).
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as InferenceProto } from '../generated/grpc_service.js';
import type { ProtoGrpcType as HealthProto } from '../generated/health.js';

const PROTO_DIR = fileURLToPath(new URL('../../protos/', import.meta.url));

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

let inference: InferenceProto | undefined;
let health: HealthProto | undefined;

export function inferenceProto(): InferenceProto {
  inference ??= grpc.loadPackageDefinition(
    protoLoader.loadSync('grpc_service.proto', PROTO_LOADER_OPTIONS),
  ) as unknown as InferenceProto;
  return inference;
}

export function healthProto(): HealthProto {
  health ??= grpc.loadPackageDefinition(
    protoLoader.loadSync('health.proto', PROTO_LOADER_OPTIONS),
  ) as unknown as HealthProto;
  return health;
}

export { PROTO_DIR };
