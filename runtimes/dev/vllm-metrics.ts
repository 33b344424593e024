// vLLM's /metrics on the OpenAI port, for the models behind the vLLM backend: the load gauges
// routing and autoscaling read — vllm:num_requests_running, vllm:num_requests_waiting,
// vllm:kv_cache_usage_perc (0..1) — and the token/preemption counters, labelled model_name and
// engine as vLLM labels them (one engine per instance). Counters are exposed with the `_total`
// suffix, as prometheus_client (which vLLM uses) writes them in the text format.
import type { ServedModel, VllmEngineLoad } from './served-model.js';

interface Family {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  value: (load: VllmEngineLoad) => number;
}

const FAMILIES: readonly Family[] = [
  { name: 'vllm:num_requests_running', type: 'gauge', help: 'Number of requests in model execution batches.', value: (l) => l.running },
  { name: 'vllm:num_requests_waiting', type: 'gauge', help: 'Number of requests waiting to be processed.', value: (l) => l.waiting },
  { name: 'vllm:kv_cache_usage_perc', type: 'gauge', help: 'KV-cache usage. 1 means 100 percent usage.', value: (l) => l.kvCacheUsage },
  { name: 'vllm:prompt_tokens_total', type: 'counter', help: 'Number of prefill tokens processed.', value: (l) => l.promptTokens },
  { name: 'vllm:generation_tokens_total', type: 'counter', help: 'Number of generation tokens processed.', value: (l) => l.generationTokens },
  { name: 'vllm:num_preemptions_total', type: 'counter', help: 'Cumulative number of preemption from the engine.', value: (l) => l.preemptions },
];

const escape = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function renderVllmMetrics(models: readonly ServedModel[]): string {
  const loads = models.flatMap((m) => (m.vllmLoad?.() ?? []).map((load, engine) => ({ model: m.spec.name, engine, load })));
  const lines: string[] = [];
  for (const family of FAMILIES) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const { model, engine, load } of loads) {
      lines.push(`${family.name}{engine="${engine}",model_name="${escape(model)}"} ${family.value(load)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
