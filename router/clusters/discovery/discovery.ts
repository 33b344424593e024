// The discovery contract: where a cluster's endpoint addresses (`host:port`) come from. The cluster
// diffs each set it is given; a discovery only reports whole sets, never deltas.

export interface Discovery {
  /** Begins reporting. `onChange` gets every new address set (sorted, deduplicated for DNS); it must not throw. */
  start(onChange: (addresses: readonly string[]) => void): void;
  /** No `onChange` call happens after stop returns. */
  stop(): void;
}
