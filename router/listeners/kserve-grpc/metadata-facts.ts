// gRPC request metadata as the routing facts every listener hands down: keys are already lower
// case (HTTP/2), so header match rules, sticky keys, hash pickers and `x-switchyard-timeout-ms`
// work on gRPC exactly as on HTTP. Binary (`-bin`) entries are left out: routing keys are text.
import type { Metadata } from '@grpc/grpc-js';
import type { RoutingFacts } from '../../core/call-context.js';

export function metadataFacts(metadata: Metadata): RoutingFacts {
  const headers: Record<string, string | string[]> = {};
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    if (key.endsWith('-bin')) continue;
    const text = values.filter((v): v is string => typeof v === 'string');
    if (text.length === 1) headers[key] = text[0] as string;
    else if (text.length > 1) headers[key] = text;
  }
  return { headers };
}
