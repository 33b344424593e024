// /metrics in Prometheus text format with Triton's per-model metric names and labels
// (model, version; failures also by reason). Durations are cumulative microseconds. Under a
// calibrated profile there is a (simulated) GPU, and Triton's GPU gauge nv_gpu_utilization
// (0..1, labelled gpu_uuid) is exported too; without one there is no GPU, as on a CPU-only Triton.
import { FAILURE_REASONS, type ModelStats } from './model-statistics.js';

interface Family {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  samples: (stats: ModelStats) => { labels?: Record<string, string>; value: number | bigint }[];
}

const us = (ns: bigint): bigint => ns / 1000n;

const FAMILIES: Family[] = [
  { name: 'nv_inference_request_success', type: 'counter', help: 'Number of successful inference requests, all batch sizes', samples: (s) => [{ value: s.success.count }] },
  {
    name: 'nv_inference_request_failure', type: 'counter', help: 'Number of failed inference requests, all batch sizes',
    samples: (s) => FAILURE_REASONS.map((reason) => ({ labels: { reason }, value: s.failures[reason] })),
  },
  { name: 'nv_inference_count', type: 'counter', help: 'Number of inferences performed (does not include cached requests)', samples: (s) => [{ value: s.inferenceCount }] },
  { name: 'nv_inference_exec_count', type: 'counter', help: 'Number of model executions performed (does not include cached requests)', samples: (s) => [{ value: s.executionCount }] },
  { name: 'nv_inference_pending_request_count', type: 'gauge', help: 'Instantaneous number of pending requests awaiting execution per-model.', samples: (s) => [{ value: s.pendingGauge() }] },
  { name: 'nv_inference_request_duration_us', type: 'counter', help: 'Cumulative inference request duration in microseconds (includes cached requests)', samples: (s) => [{ value: us(s.success.ns + s.fail.ns) }] },
  { name: 'nv_inference_queue_duration_us', type: 'counter', help: 'Cumulative inference queuing duration in microseconds (includes cached requests)', samples: (s) => [{ value: us(s.queue.ns) }] },
  { name: 'nv_inference_compute_input_duration_us', type: 'counter', help: 'Cumulative compute input duration in microseconds (does not include cached requests)', samples: (s) => [{ value: us(s.computeInput.ns) }] },
  { name: 'nv_inference_compute_infer_duration_us', type: 'counter', help: 'Cumulative compute inference duration in microseconds (does not include cached requests)', samples: (s) => [{ value: us(s.computeInfer.ns) }] },
  { name: 'nv_inference_compute_output_duration_us', type: 'counter', help: 'Cumulative inference compute output duration in microseconds (does not include cached requests)', samples: (s) => [{ value: us(s.computeOutput.ns) }] },
];

const escape = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function labelSet(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  return `{${keys.map((k) => `${k}="${escape(labels[k] as string)}"`).join(',')}}`;
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The simulated GPU, when a profile gives one. */
export interface GpuGauge {
  uuid: string;
  /** 0..1 */
  utilization(): number;
}

export function renderMetrics(models: readonly ModelStats[], gpu?: GpuGauge): string {
  const lines: string[] = [];
  if (gpu !== undefined) {
    lines.push('# HELP nv_gpu_utilization GPU utilization rate [0.0 - 1.0)', '# TYPE nv_gpu_utilization gauge');
    lines.push(`nv_gpu_utilization${labelSet({ gpu_uuid: gpu.uuid })} ${gpu.utilization()}`);
  }
  for (const family of FAMILIES) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const stats of models) {
      for (const sample of family.samples(stats)) {
        lines.push(`${family.name}${labelSet({ model: stats.name, version: stats.version, ...sample.labels })} ${sample.value}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
