// One measured window of the bench, as written to BENCH_JSON and summarised by the report.

export type Phase = 'rate' | 'throughput' | 'stream' | 'memory' | 'v2-rate' | 'v2-throughput';

export const V2_TARGETS = ['v2-direct-grpc', 'v2-switchyard-rest', 'v2-switchyard-grpc'] as const;
export type V2TargetName = (typeof V2_TARGETS)[number];

export const V2_LABELS: Record<V2TargetName, string> = {
  'v2-direct-grpc': 'dev runtime direct, gRPC ModelInfer',
  'v2-switchyard-rest': 'Switchyard, V2 REST in → gRPC ModelInfer out',
  'v2-switchyard-grpc': 'Switchyard, V2 gRPC in → gRPC ModelInfer out',
};

export interface BenchRecord {
  readonly phase: Phase;
  readonly target: string;
  readonly round: number;
  /** Open-loop rate (requests or streams per second), for rate / v2-rate / stream. */
  readonly rate?: number;
  readonly sent: number;
  readonly ok: number;
  readonly errors: number;
  readonly unfinished: number;
  /** Good answers per second of window. */
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Open loop: fewer than 95 % of the scheduled requests answered in time. */
  readonly saturated: boolean;
  // streams
  readonly ttftP50Ms?: number;
  readonly ttftP99Ms?: number;
  /** Median over streams of each stream's mean gap between tokens. */
  readonly itlMeanMs?: number;
  /** p99 of every single gap between tokens. */
  readonly gapP99Ms?: number;
  readonly tokensPerStream?: number;
  // memory
  readonly heldWanted?: number;
  readonly heldStreaming?: number;
  readonly rssIdleMb?: number;
  readonly rssHeldMb?: number;
  /** A second after every stream was dropped: what the proxy keeps. */
  readonly rssAfterMb?: number;
  /** (RSS with the streams − RSS idle) scaled to 1,000 streams. */
  readonly mbPer1000?: number;
  // accounting
  readonly elapsedS: number;
  /** CPU of the proxy process tree (the runtime's for direct). */
  readonly targetCpuS: number;
  readonly cpuUsPerRequest: number;
  /** Busy CPU on the box used by none of our processes during the window. */
  readonly otherCpuS: number;
  readonly stealS: number;
  readonly quietWaitS: number;
  readonly tries: number;
  /** Still over the residual-CPU bound after every retry. */
  readonly contaminated: boolean;
}
