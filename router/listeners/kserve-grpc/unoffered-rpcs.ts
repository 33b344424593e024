// Triton RPCs Switchyard does not offer, each refused as UNIMPLEMENTED with a message saying why and
// what to do instead (not grpc-js's bare "does not implement the method"). The repository RPCs are
// in protos/grpc_service.proto; shared memory, trace and log settings are not, so they are
// registered by path, their request bytes never decoded.
import type * as grpc from '@grpc/grpc-js';
import type { FastifyBaseLogger } from 'fastify';
import { SwitchyardError } from '../../core/errors.js';
import { unaryHandler } from './unary-handler.js';

const SERVICE = '/inference.GRPCInferenceService';
const REPOSITORY = "the router serves the models in its config from a fleet of runtimes; manage each runtime's model repository on the runtime";
const SHARED_MEMORY = 'the router and its clients do not share memory; send the tensor data in the request';
const SETTINGS = 'set trace and log settings on each runtime directly';

/** Triton's RPCs that are not in protos/grpc_service.proto, and why they are refused. */
const NOT_IN_PROTO: Readonly<Record<string, string>> = {
  SystemSharedMemoryStatus: SHARED_MEMORY,
  SystemSharedMemoryRegister: SHARED_MEMORY,
  SystemSharedMemoryUnregister: SHARED_MEMORY,
  CudaSharedMemoryStatus: SHARED_MEMORY,
  CudaSharedMemoryRegister: SHARED_MEMORY,
  CudaSharedMemoryUnregister: SHARED_MEMORY,
  TraceSetting: SETTINGS,
  LogSettings: SETTINGS,
};

/** A unary handler that refuses `rpc`. */
export function unofferedRpc<Req, Res>(rpc: string, logger: FastifyBaseLogger, why: string = REPOSITORY): grpc.handleUnaryCall<Req, Res> {
  return unaryHandler<Req, Res>({ logger }, async () => {
    throw new SwitchyardError('SWY_ERR_INPUT_UNSUPPORTED', `${rpc} is not offered through Switchyard: ${why}`);
  });
}

/** Registers the refusals for Triton's RPCs that the loaded proto does not define. */
export function registerUnofferedRpcs(server: grpc.Server, logger: FastifyBaseLogger): void {
  for (const [rpc, why] of Object.entries(NOT_IN_PROTO)) {
    server.register<Buffer, never>(`${SERVICE}/${rpc}`, unofferedRpc<Buffer, never>(rpc, logger, why), () => Buffer.alloc(0), (bytes) => bytes, 'unary');
  }
}
