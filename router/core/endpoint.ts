// One runtime replica, `host:port`, inside a named cluster.

export interface Endpoint {
  /** `host:port` (IPv6 as `[::1]:8001`), as dialled by the backend. */
  readonly address: string;
  readonly cluster: string;
}
