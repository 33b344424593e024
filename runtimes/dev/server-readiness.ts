// Whether the server reports itself ready (ServerReady, /v2/health/ready, grpc.health.v1), with
// change notification for health Watch streams. Shutdown makes it not ready for good.
import { EventEmitter } from 'node:events';

export class ServerReadiness extends EventEmitter<{ change: [ready: boolean] }> {
  #wanted = true;
  #shuttingDown = false;

  get ready(): boolean {
    return this.#wanted && !this.#shuttingDown;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** The operator's switch (/dev/faults "ready"). */
  setReady(ready: boolean): void {
    const before = this.ready;
    this.#wanted = ready;
    if (this.ready !== before) this.emit('change', this.ready);
  }

  beginShutdown(): void {
    const before = this.ready;
    this.#shuttingDown = true;
    if (this.ready !== before) this.emit('change', this.ready);
  }
}
