// Watches one config file and reports when its content changed (debounced), for hot reload.
// The directory is watched, not the file: editors save by writing a new file and renaming it over
// the old one, and a Kubernetes ConfigMap volume swaps a `..data` symlink; either ends a watch held
// on the file itself. Events are filtered to the file's name (and `..data`), and a change is
// reported only when the bytes differ from the last ones seen, so a touch or an unrelated swap in
// the directory reloads nothing.
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/** The name kubelet's atomic writer swaps in a ConfigMap/Secret volume; the files are symlinks through it. */
const KUBERNETES_DATA_LINK = '..data';

export interface ConfigWatcherOptions {
  /** Quiet time after the last event before the file is read (a save is often several events). */
  readonly debounceMs?: number;
  /** The watch itself failed (e.g. the directory was removed); the watcher is closed. */
  readonly onError?: (err: Error) => void;
}

export class ConfigWatcher {
  readonly #path: string;
  readonly #name: string;
  readonly #onChange: () => void;
  readonly #onError: (err: Error) => void;
  readonly #debounceMs: number;
  readonly #watcher: FSWatcher;
  #timer: NodeJS.Timeout | undefined;
  /** Digest of the content last seen; undefined while the file cannot be read. */
  #seen: string | undefined;
  #closed = false;

  /** `onChange` is called after the file's content changed (or it became unreadable). Throws if the directory cannot be watched. */
  constructor(path: string, onChange: () => void, options: ConfigWatcherOptions = {}) {
    this.#path = path;
    this.#name = basename(path);
    this.#onChange = onChange;
    this.#onError = options.onError ?? (() => {});
    this.#debounceMs = options.debounceMs ?? 200;
    this.#seen = this.#digest();
    // Not persistent: watching the config never keeps the process alive on its own.
    this.#watcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
      // Some platforms give no file name; then every event in the directory counts.
      const name = filename === null ? null : filename.toString();
      if (name === null || name === this.#name || name === KUBERNETES_DATA_LINK) this.#schedule();
    });
    this.#watcher.on('error', (err) => {
      this.close();
      this.#onError(err);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#watcher.close();
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#check(), this.#debounceMs);
    this.#timer.unref();
  }

  #check(): void {
    if (this.#closed) return;
    const digest = this.#digest();
    // Becoming unreadable counts as a change (once), so the reload can say why; readable again is
    // another change.
    if (digest === this.#seen) return;
    this.#seen = digest;
    this.#onChange();
  }

  #digest(): string | undefined {
    try {
      return createHash('sha256').update(readFileSync(this.#path)).digest('hex');
    } catch {
      return undefined;
    }
  }
}
