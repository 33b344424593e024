// The markdown the bench prints: run facts, then one table per question, each cell the median of
// rounds with [min–max]. "Added" figures are differences taken within a round (target minus the
// direct baseline of the same round and rate), then the median of those differences.
import { cpus, release, totalmem } from 'node:os';
import { V2_LABELS, V2_TARGETS, type BenchRecord, type Phase } from './bench-record.js';
import type { BenchSettings } from './bench-settings.js';
import type { PeerInstall } from './peer-installer.js';
import { spread, type Spread } from './percentiles.js';
import { OPENAI_TARGETS, TARGET_LABELS, type OpenAiTargetName } from './target-launcher.js';

export interface BenchFacts {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: string;
  readonly settings: BenchSettings;
  readonly pinning: string;
  readonly targets: { name: OpenAiTargetName; label: string; version: string; available: boolean; reason?: string | undefined; streams: boolean; streamReason?: string | undefined }[];
  readonly peers: PeerInstall[];
}

const num = (n: number, digits: number) => (Number.isNaN(n) ? '—' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }).replace(/,/g, ' '));

/** Free text (a failure reason) made safe for one table cell. */
const esc = (text: string | undefined) => (text ?? '').replace(/\s+/g, ' ').replace(/\|/g, '/');

function cell(s: Spread, digits: number, unit = '', bold = false): string {
  if (s.n === 0) return '—';
  const m = `${num(s.median, digits)}${unit}`;
  const body = bold ? `**${m}**` : m;
  return s.n === 1 || s.min === s.max ? body : `${body} [${num(s.min, digits)}–${num(s.max, digits)}]`;
}

function signed(s: Spread, digits: number, unit: string): string {
  if (s.n === 0) return '—';
  const f = (n: number) => `${n >= 0 ? '+' : '−'}${num(Math.abs(n), digits)}`;
  return s.n === 1 || s.min === s.max ? `${f(s.median)}${unit}` : `**${f(s.median)}${unit}** [${f(s.min)}…${f(s.max)}]`;
}

function pick(records: readonly BenchRecord[], phase: Phase, target: string, rate?: number): BenchRecord[] {
  return records.filter((r) => r.phase === phase && r.target === target && (rate === undefined || r.rate === rate));
}

/** Per round: value(target) − value(baseline) in that round; rounds without both are left out. */
function added(records: readonly BenchRecord[], phase: Phase, target: string, baseline: string, value: (r: BenchRecord) => number | undefined, rate?: number): Spread {
  const mine = pick(records, phase, target, rate);
  const base = pick(records, phase, baseline, rate);
  const diffs: number[] = [];
  for (const r of mine) {
    const b = base.find((x) => x.round === r.round);
    const v = value(r);
    const bv = b === undefined ? undefined : value(b);
    if (v !== undefined && bv !== undefined && !Number.isNaN(v) && !Number.isNaN(bv)) diffs.push(v - bv);
  }
  return spread(diffs);
}

const values = (rs: readonly BenchRecord[], f: (r: BenchRecord) => number | undefined) => spread(rs.map((r) => f(r) ?? Number.NaN));
const sum = (rs: readonly BenchRecord[], f: (r: BenchRecord) => number) => rs.reduce((a, r) => a + f(r), 0);

function errorsCell(rs: readonly BenchRecord[]): string {
  const errors = sum(rs, (r) => r.errors);
  const unfinished = sum(rs, (r) => r.unfinished);
  return unfinished > 0 ? `${errors} / ${unfinished} unfinished` : String(errors);
}

/** A table row for a target that never ran: its reason in the first data cell, the rest empty. */
function unavailableRow(name: string, reason: string | undefined, columns: number): string {
  return `| ${name} | unavailable: ${esc(reason)} |${' |'.repeat(columns - 2)}`;
}

export function benchReport(facts: BenchFacts, records: readonly BenchRecord[]): string {
  const s = facts.settings;
  const lines: string[] = [];
  const present = OPENAI_TARGETS.filter((t) => facts.targets.some((x) => x.name === t));
  const label = (t: OpenAiTargetName) => TARGET_LABELS[t];
  const hasDirect = present.includes('direct');
  const down = (t: OpenAiTargetName) => facts.targets.find((x) => x.name === t && !x.available);

  lines.push(`#### Run`, '', '```', facts.command, '```', '');
  const cpu = cpus();
  lines.push(`| | |`, `| --- | --- |`);
  lines.push(`| when | ${facts.startedAt} → ${facts.finishedAt} |`);
  lines.push(`| machine | ${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()} |`);
  lines.push(`| Node | ${process.version} |`);
  lines.push(`| pinning | ${facts.pinning} |`);
  lines.push(
    `| windows | ${s.rounds} round(s), targets alternated (reversed every other round); ${s.initialWarmupS} s closed-loop warm-up of every target before round 1; per window ${s.quietMaxWaitS > 0 ? `a quiet-box gate (≤ ${s.quietMaxWaitS} s)` : 'no quiet-box gate'}, ${s.warmupS} s warm-up at the window's load, ${s.durationS} s measured; redone up to ${s.retries}× when other processes used > ${s.maxOtherCpu} CPU-s per s |`,
  );
  for (const t of facts.targets) {
    const state = t.available ? (t.streams ? 'ok' : `streams unavailable: ${esc(t.streamReason)}`) : `**unavailable**: ${esc(t.reason)}`;
    lines.push(`| ${t.name} | ${t.version} — ${state} |`);
  }
  const contaminated = records.filter((r) => r.contaminated).length;
  const maxOther = Math.max(0, ...records.map((r) => r.otherCpuS / r.elapsedS));
  const maxSteal = Math.max(0, ...records.map((r) => r.stealS / r.elapsedS));
  lines.push(`| noise | ${records.length} windows, ${contaminated} still contaminated after retries; other processes ≤ ${maxOther.toFixed(2)} CPU-s per s; steal ≤ ${maxSteal.toFixed(2)} CPU-s per s |`, '');

  // 1. Latency at fixed rates.
  lines.push(`#### Router-added latency at fixed request rates (non-streaming, open loop)`, '');
  lines.push(
    `Chat completion, \`max_tokens: 1\`, upstream token latency 0. Latency from each request's scheduled send time to its full answer. "Added" = target − direct in the same round and rate, median [range] over rounds. ✗ = fell behind: under 95 % of the requests answered, or answered at under 95 % of the offered rate (first send to last answer; requests still open 2 s after the window are abandoned); its higher rates are then skipped.`,
    '',
  );
  lines.push(`| rate | target | p50 ms | p99 ms | added p50 ms | added p99 ms | errors | proxy CPU µs/req |`, `| --- | --- | --- | --- | --- | --- | --- | --- |`);
  for (const t of present) {
    const d = down(t);
    if (d !== undefined) lines.push(unavailableRow(`all | ${label(t)}`, d.reason, 7));
  }
  for (const rate of s.rates) {
    for (const t of present) {
      const rs = pick(records, 'rate', t, rate);
      if (rs.length === 0) {
        const earlier = records.find((r) => r.phase === 'rate' && r.target === t && r.saturated && (r.rate ?? 0) < rate);
        if (earlier !== undefined) lines.push(`| ${rate}/s | ${label(t)} | ✗ | ✗ | skipped: fell behind at ${earlier.rate}/s | | | |`);
        continue;
      }
      const sat = rs.some((r) => r.saturated) ? ' ✗' : '';
      const addP50 = hasDirect && t !== 'direct' ? signed(added(records, 'rate', t, 'direct', (r) => r.p50Ms, rate), 3, '') : '—';
      const addP99 = hasDirect && t !== 'direct' ? signed(added(records, 'rate', t, 'direct', (r) => r.p99Ms, rate), 2, '') : '—';
      const cpuCell = t === 'direct' ? `(runtime ${cell(values(rs, (r) => r.cpuUsPerRequest), 0)})` : cell(values(rs, (r) => r.cpuUsPerRequest), 0);
      lines.push(`| ${rate}/s | ${label(t)}${sat} | ${cell(values(rs, (r) => r.p50Ms), 3)} | ${cell(values(rs, (r) => r.p99Ms), 2)} | ${addP50} | ${addP99} | ${errorsCell(rs)} | ${cpuCell} |`);
    }
  }
  lines.push('');

  // 2. Throughput.
  lines.push(`#### Maximum sustainable throughput (closed loop, ${s.clients} clients)`, '');
  lines.push(
    `Non-streaming, \`max_tokens: 1\`. Requests answered per second with ${s.clients} clients each sending its next request on the previous answer. "Proxy core busy" near 100 % means the proxy is the limit; otherwise the load generator + upstream core is.`,
    '',
  );
  lines.push(`| target | req/s | vs bare | vs direct | p50 ms | p99 ms | errors | proxy CPU µs/req | proxy core busy |`, `| --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
  const tput = (t: string) => values(pick(records, 'throughput', t), (r) => r.throughput);
  for (const t of present) {
    const rs = pick(records, 'throughput', t);
    const d = down(t);
    if (d !== undefined) lines.push(unavailableRow(label(t), d.reason, 9));
    if (rs.length === 0) continue;
    const ratio = (base: string) => {
      const b = pick(records, 'throughput', base);
      const rat = rs.map((r) => {
        const x = b.find((y) => y.round === r.round);
        return x === undefined ? Number.NaN : r.throughput / x.throughput;
      });
      return t === base || b.length === 0 ? '—' : `${num(spread(rat).median, 2)}×`;
    };
    const busy = values(rs, (r) => (r.targetCpuS / r.elapsedS) * 100);
    lines.push(
      `| ${label(t)} | ${cell(tput(t), 0, '', true)} | ${ratio('bare')} | ${ratio('direct')} | ${cell(values(rs, (r) => r.p50Ms), 2)} | ${cell(values(rs, (r) => r.p99Ms), 1)} | ${errorsCell(rs)} | ${t === 'direct' ? `(runtime ${cell(values(rs, (r) => r.cpuUsPerRequest), 0)})` : cell(values(rs, (r) => r.cpuUsPerRequest), 0)} | ${t === 'direct' ? '—' : `${num(busy.median, 0)} %`} |`,
    );
  }
  lines.push('');

  // 3. Streams.
  lines.push(`#### Streams: time to first token and inter-token latency`, '');
  lines.push(
    `${s.streamRate} streams/s (open loop) of ${s.streamTokens} tokens, the upstream ${s.tokenMs} ms apart, prefill 0. TTFT: scheduled start → first SSE event with non-empty \`content\`, at the client. ITL: per stream the mean gap between content events, median over streams; "gap p99": p99 of every single gap. Added = target − direct, same round.`,
    '',
  );
  lines.push(`| target | TTFT p50 ms | added TTFT p50 | TTFT p99 ms | added TTFT p99 | ITL ms | added ITL | gap p99 ms | tokens/stream | errors | proxy CPU µs/stream |`);
  lines.push(`| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
  for (const t of present) {
    const rs = pick(records, 'stream', t);
    const info = facts.targets.find((x) => x.name === t);
    if (rs.length === 0) {
      if (info !== undefined && (!info.available || !info.streams)) lines.push(unavailableRow(label(t), info.available ? info.streamReason : info.reason, 11));
      continue;
    }
    const isBase = t === 'direct' || !hasDirect;
    lines.push(
      `| ${label(t)} | ${cell(values(rs, (r) => r.ttftP50Ms), 2)} | ${isBase ? '—' : signed(added(records, 'stream', t, 'direct', (r) => r.ttftP50Ms), 2, ' ms')} | ${cell(values(rs, (r) => r.ttftP99Ms), 2)} | ${isBase ? '—' : signed(added(records, 'stream', t, 'direct', (r) => r.ttftP99Ms), 2, ' ms')} | ${cell(values(rs, (r) => r.itlMeanMs), 2)} | ${isBase ? '—' : signed(added(records, 'stream', t, 'direct', (r) => r.itlMeanMs), 2, ' ms')} | ${cell(values(rs, (r) => r.gapP99Ms), 2)} | ${num(values(rs, (r) => r.tokensPerStream).median, 1)} | ${errorsCell(rs)} | ${t === 'direct' ? `(runtime ${cell(values(rs, (r) => r.cpuUsPerRequest), 0)})` : cell(values(rs, (r) => r.cpuUsPerRequest), 0)} |`,
    );
  }
  lines.push('');

  // 4. Memory.
  if (s.heldStreams > 0) {
    lines.push(`#### Memory per 1,000 concurrent streams`, '');
    lines.push(
      `Per window a fresh process of the proxy (warmed up with 1 s of ${s.clients}-client requests and 1 s of streams), then ${s.heldStreams} streams opened over ${s.quick ? 0.5 : 2} s and held (upstream tokens ${s.heldTokenMs} ms apart); the proxy's RSS (VmRSS, process and children; median of ${s.quick ? '3 samples 100' : '5 samples 250'} ms apart) just before opening, once every stream has its first token, and 1 s after all were dropped. MB per 1,000 = (with streams − before) × 1,000 / streams open at the sample, given only when at least 95 % were open within 30 s. RSS moves with the garbage collector by several MB either way, so small deltas (quick runs) are noise.`,
      '',
    );
    lines.push(`| target | streams open at sample | RSS before MB | RSS with streams MB | RSS after MB | MB per 1,000 streams |`, `| --- | --- | --- | --- | --- | --- |`);
    for (const t of present) {
      const rs = pick(records, 'memory', t);
      const info = facts.targets.find((x) => x.name === t);
      if (rs.length === 0) {
        if (t !== 'direct' && info !== undefined && (!info.available || !info.streams)) lines.push(unavailableRow(label(t), info.available ? info.streamReason : info.reason, 6));
        continue;
      }
      const open = rs.map((r) => `${r.heldStreaming}`).join(', ');
      const perK = values(rs, (r) => r.mbPer1000);
      const perKCell = perK.n > 0 ? cell(perK, 1, '', true) : `— (under 95 % of the streams open after 30 s)`;
      lines.push(`| ${label(t)} | ${open} of ${s.heldStreams} | ${cell(values(rs, (r) => r.rssIdleMb), 1)} | ${cell(values(rs, (r) => r.rssHeldMb), 1)} | ${cell(values(rs, (r) => r.rssAfterMb), 1)} | ${perKCell} |`);
    }
    lines.push('');
  }

  // 5. KServe V2.
  if (records.some((r) => r.phase === 'v2-rate' || r.phase === 'v2-throughput')) {
    lines.push(`#### KServe V2 (iris, one row; Switchyard only — the peers have no V2)`, '');
    lines.push(
      `The dev runtime serves V2 over gRPC only, so the baseline is a direct gRPC \`ModelInfer\` (grpc-js client, raw contents). Open loop at ${s.v2Rate}/s${s.v2Throughput ? `, and a closed loop with ${s.clients} clients (bound by the load generator's core: the grpc-js client and the runtime)` : ''}. Added = target − direct gRPC, same round.`,
      '',
    );
    lines.push(`| target | p50 ms @${s.v2Rate}/s | p99 ms | added p50 | added p99 | errors | proxy CPU µs/req @${s.v2Rate}/s | req/s (c=${s.clients}) | proxy CPU µs/req (c=${s.clients}) |`, `| --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
    for (const t of V2_TARGETS) {
      const rs = pick(records, 'v2-rate', t);
      const ts = pick(records, 'v2-throughput', t);
      if (rs.length === 0 && ts.length === 0) continue;
      const isBase = t === 'v2-direct-grpc';
      const cpuOf = (xs: BenchRecord[]) => (isBase ? `(runtime ${cell(values(xs, (r) => r.cpuUsPerRequest), 0)})` : cell(values(xs, (r) => r.cpuUsPerRequest), 0));
      lines.push(
        `| ${V2_LABELS[t]}${rs.some((r) => r.saturated) ? ' ✗' : ''} | ${cell(values(rs, (r) => r.p50Ms), 3)} | ${cell(values(rs, (r) => r.p99Ms), 2)} | ${isBase ? '—' : signed(added(records, 'v2-rate', t, 'v2-direct-grpc', (r) => r.p50Ms), 3, '')} | ${isBase ? '—' : signed(added(records, 'v2-rate', t, 'v2-direct-grpc', (r) => r.p99Ms), 2, '')} | ${errorsCell([...rs, ...ts])} | ${cpuOf(rs)} | ${ts.length === 0 ? '—' : cell(values(ts, (r) => r.throughput), 0)} | ${ts.length === 0 ? '—' : cpuOf(ts)} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}
