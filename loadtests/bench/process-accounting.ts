// What the box and our processes spend: CPU ticks from /proc/<pid>/stat (with descendants, for a
// gateway that forks workers), box-wide busy ticks from /proc/stat, resident memory from
// /proc/<pid>/status, and the quiet-box gate run before every measured window.
import { readdirSync, readFileSync } from 'node:fs';

/** Linux USER_HZ; every kernel this runs on reports 100 ticks per second. */
export const TICKS_PER_S = 100;

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may contain spaces: state is [0], ppid [1], utime [11], stime [12].
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // the process is gone
  }
}

/** utime + stime of one process (all its threads), in ticks; 0 once it is gone. */
export function processTicks(pid: number): number {
  const f = statFields(pid);
  return f === undefined ? 0 : Number(f[11]) + Number(f[12]);
}

/** The pid and every live descendant (LiteLLM's uvicorn workers, a shell wrapper's child). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f === undefined) continue;
    const ppid = Number(f[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

export function treeTicks(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + processTicks(pid), 0);
}

/** VmRSS of the pid and its descendants, in bytes. */
export function treeRssBytes(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m !== null) total += Number(m[1]) * 1024;
    } catch {
      // gone between listing and reading
    }
  }
  return total;
}

/** Busy ticks of the whole box: user + nice + system + irq + softirq (idle, iowait and steal excluded). */
export function boxBusyTicks(): number {
  const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = cpu;
  return user + nice + system + irq + softirq;
}

/** Steal ticks of the whole box: time the hypervisor gave our vCPUs to someone else. */
export function boxStealTicks(): number {
  const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  return cpu[7] ?? 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The quiet-box gate: wait until three consecutive 0.5 s windows show at most 4 busy ticks on the
 * whole box (our own idle processes included). Gives up after maxWaitS (0: no gate) and says how
 * long it waited.
 */
export async function waitForQuietBox(maxWaitS: number): Promise<{ waitedS: number; quiet: boolean }> {
  if (maxWaitS === 0) return { waitedS: 0, quiet: false }; // gate off
  const started = Date.now();
  let calm = 0;
  while (calm < 3) {
    if (Date.now() - started > maxWaitS * 1000) return { waitedS: (Date.now() - started) / 1000, quiet: false };
    const before = boxBusyTicks();
    await sleep(500);
    calm = boxBusyTicks() - before <= 4 ? calm + 1 : 0;
  }
  return { waitedS: (Date.now() - started) / 1000, quiet: true };
}

/**
 * CPU accounting around one measured window: the target's own CPU, and the residual — box busy
 * ticks that none of our processes (harness, upstream, target tree) used, i.e. someone else's work.
 */
export class CpuWindow {
  readonly #ours: readonly number[];
  readonly #target: readonly number[];
  readonly #box0: number;
  readonly #ours0: number;
  readonly #target0: number;
  readonly #steal0: number;

  constructor(ourPids: readonly number[], targetPids: readonly number[]) {
    this.#ours = ourPids;
    this.#target = targetPids;
    this.#box0 = boxBusyTicks();
    this.#ours0 = treeTicks(ourPids);
    this.#target0 = treeTicks(targetPids);
    this.#steal0 = boxStealTicks();
  }

  finish(): { targetCpuS: number; otherCpuS: number; stealS: number } {
    const box = boxBusyTicks() - this.#box0;
    const ours = treeTicks(this.#ours) - this.#ours0;
    return {
      targetCpuS: (treeTicks(this.#target) - this.#target0) / TICKS_PER_S,
      otherCpuS: Math.max(0, box - ours) / TICKS_PER_S,
      stealS: (boxStealTicks() - this.#steal0) / TICKS_PER_S,
    };
  }
}
