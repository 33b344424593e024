// The request id of a gRPC call: the client's `x-request-id` metadata, by the listeners' shared rule.
import type { Metadata } from '@grpc/grpc-js';
import { requestIdOrNew } from '../request-id.js';

export function requestIdFrom(metadata: Metadata): string {
  return requestIdOrNew(metadata.get('x-request-id')[0]);
}
