// Non-streaming load, in this process (pinned with the upstream, the same for every target):
//   open loop  — requests at a fixed rate on a schedule; each latency runs from its *scheduled*
//                send time, so a target that falls behind is charged for the wait (no coordinated
//                omission); requests still unanswered `graceS` after the window are abandoned and
//                counted as unfinished;
//   closed loop — N clients, each sending its next request when the previous one is answered.
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { Pool } from 'undici';
import type { GRPCInferenceServiceClient } from '../../router/generated/inference/GRPCInferenceService.js';
import type { ModelInferResponse__Output } from '../../router/generated/inference/ModelInferResponse.js';
import { inferenceClient } from '../../test/helpers/dev-runtime.js';

/** Sends one request; resolves true on a good answer, false (or rejects) otherwise. */
export interface Sender {
  send(): Promise<boolean>;
  /** Drops every connection, abandoning whatever is still in flight. */
  close(): Promise<void>;
}

export function httpSender(url: string, path: string, headers: Record<string, string>, body: string, expect: string, connections: number): Sender {
  const pool = new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
  return {
    async send() {
      const res = await pool.request({ path, method: 'POST', headers, body });
      const text = await res.body.text();
      return res.statusCode === 200 && text.includes(expect);
    },
    close: () => pool.destroy(),
  };
}

const IRIS_ROW = Buffer.from(new Float32Array([5.1, 3.5, 1.4, 0.2]).buffer);

/** KServe V2 gRPC `ModelInfer` of one iris row, raw contents (the dev runtime directly, or Switchyard's gRPC listener). */
export function grpcInferSender(target: string): Sender {
  const client: GRPCInferenceServiceClient = inferenceClient(target);
  return {
    send() {
      return new Promise<boolean>((resolve, reject) => {
        client.ModelInfer(
          { model_name: 'iris', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [IRIS_ROW] },
          new grpc.Metadata(),
          { deadline: Date.now() + 30_000 },
          (err: grpc.ServiceError | null, res?: ModelInferResponse__Output) => (err ? reject(err) : resolve((res?.outputs.length ?? 0) === 2)),
        );
      });
    },
    async close() {
      client.close();
    },
  };
}

export interface LoadResult {
  /** Requests started in the window (open loop: as scheduled). */
  readonly sent: number;
  /** Answered in time with a good answer. */
  readonly ok: number;
  /** Answered with an error or a bad answer. */
  readonly errors: number;
  /** Open loop: not answered within graceS after the window (the target fell behind). */
  readonly unfinished: number;
  /** Good answers per second of window. */
  readonly throughput: number;
  /**
   * Open loop: good answers per second from the first send to the last answer. Below the offered
   * rate when the target fell behind (its backlog drained after the window).
   */
  readonly servedRate: number;
  /** Milliseconds, ascending, good answers only. */
  readonly latencies: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function openLoop(sender: Sender, rate: number, durationS: number, graceS: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  let sent = 0;
  let lastAnswer = 0;
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  const total = Math.round(rate * durationS);
  const intervalMs = 1000 / rate;
  const one = (scheduled: number): void => {
    const p = sender.send().then(
      (good) => {
        lastAnswer = performance.now();
        if (good) {
          ok++;
          latencies.push(lastAnswer - scheduled);
        } else errors++;
      },
      () => {
        errors++;
      },
    );
    const tracked = p.finally(() => pending.delete(tracked));
    pending.add(tracked);
  };
  while (sent < total) {
    const now = performance.now();
    // Everything due by now goes out now, each keeping its own scheduled time.
    while (sent < total && start + sent * intervalMs <= now) {
      one(start + sent * intervalMs);
      sent++;
    }
    const wait = Math.min(Math.max(start + sent * intervalMs - performance.now(), 0), 5);
    await sleep(Math.floor(wait));
  }
  const windowEnd = start + durationS * 1000;
  const deadline = windowEnd + graceS * 1000;
  while (pending.size > 0 && performance.now() < deadline) await sleep(5);
  const unfinished = pending.size;
  latencies.sort((a, b) => a - b);
  const servedS = Math.max(durationS, (lastAnswer - start) / 1000);
  return { sent, ok, errors, unfinished, throughput: ok / durationS, servedRate: ok / servedS, latencies };
}

export async function closedLoop(sender: Sender, clients: number, durationS: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  let sent = 0;
  const until = performance.now() + durationS * 1000;
  const client = async (): Promise<void> => {
    while (performance.now() < until) {
      const started = performance.now();
      sent++;
      let good = false;
      try {
        good = await sender.send();
      } catch {
        good = false;
      }
      const ended = performance.now();
      if (ended > until) break; // answers after the window do not count
      if (good) {
        ok++;
        latencies.push(ended - started);
      } else errors++;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  latencies.sort((a, b) => a - b);
  return { sent, ok, errors, unfinished: 0, throughput: ok / durationS, servedRate: ok / durationS, latencies };
}
