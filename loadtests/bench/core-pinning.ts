// Where each process runs on a 2-core box, "split" mode: the load generator (this
// process) and the upstream on CPU 0, the proxy under test alone on CPU 1. Only with taskset and at
// least 2 CPUs, and not with BENCH_PIN=0.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

export const LOAD_CPU = 0;
export const TARGET_CPU = 1;

export class CorePinning {
  readonly enabled: boolean;
  readonly why: string;

  constructor(wanted: boolean) {
    if (!wanted) {
      this.enabled = false;
      this.why = 'off (BENCH_PIN=0)';
      return;
    }
    if (cpus().length < 2) {
      this.enabled = false;
      this.why = `off (${cpus().length} CPU)`;
      return;
    }
    try {
      execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    } catch {
      this.enabled = false;
      this.why = 'off (no taskset)';
      return;
    }
    this.enabled = true;
    this.why = `split: load generator + upstream on CPU ${LOAD_CPU}, proxy under test on CPU ${TARGET_CPU}`;
  }

  /** A command line that starts on the target core (`taskset -c 1 …`), or the command itself. */
  command(file: string, args: readonly string[]): { file: string; args: string[] } {
    return this.enabled ? { file: 'taskset', args: ['-c', String(TARGET_CPU), file, ...args] } : { file, args: [...args] };
  }

  /** Moves a running process, all its threads, to a core. */
  pin(pid: number, cpu: number): void {
    if (!this.enabled) return;
    execFileSync('taskset', ['-a', '-cp', String(cpu), String(pid)], { stdio: 'ignore' });
  }
}
