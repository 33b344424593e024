// Decides, per inference call, whether to crash the process, hang, fail or proceed. Rates and the
// crash countdown are mutable at run time (/dev/faults); setting crashAfter restarts the count.

export type FaultDecision = 'crash' | 'hang' | 'error' | 'none';

export interface FaultSettings {
  errorRate: number;
  hangRate: number;
  crashAfter: number;
}

export class FaultInjector {
  errorRate: number;
  hangRate: number;
  #crashAfter: number;
  #callsSinceArmed = 0;
  readonly #random: () => number;

  constructor(settings: FaultSettings, random: () => number = Math.random) {
    this.errorRate = settings.errorRate;
    this.hangRate = settings.hangRate;
    this.#crashAfter = settings.crashAfter;
    this.#random = random;
  }

  get crashAfter(): number {
    return this.#crashAfter;
  }

  /** 0 disarms; N > 0 crashes on the N-th inference call counted from now. */
  set crashAfter(n: number) {
    this.#crashAfter = n;
    this.#callsSinceArmed = 0;
  }

  /** Called once per inference request that reached a model; the order is crash, hang, error. */
  decide(): FaultDecision {
    this.#callsSinceArmed++;
    if (this.#crashAfter > 0 && this.#callsSinceArmed >= this.#crashAfter) return 'crash';
    // random() is in [0, 1): a rate of 1 always fires, 0 never does.
    if (this.hangRate > 0 && this.#random() < this.hangRate) return 'hang';
    if (this.errorRate > 0 && this.#random() < this.errorRate) return 'error';
    return 'none';
  }
}
