// Public API of discovery: where a cluster's endpoint addresses come from.
export type { Discovery } from './discovery.js';
export { StaticDiscovery } from './static-discovery.js';
export { DnsDiscovery, formatAddress, type DnsDiscoveryConfig, type DnsDiscoveryOptions } from './dns-discovery.js';
