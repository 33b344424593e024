// The running config's identity for `switchyard_config_info{hash}`: sha256 of the validated config
// as JSON (defaults filled in, ${ENV} substituted), first 12 hex. Two files that mean the same
// config hash the same; an environment change that changes the config changes the hash.
import { createHash } from 'node:crypto';

export const CONFIG_HASH_CHARS = 12;

export function configHash(config: unknown): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, CONFIG_HASH_CHARS);
}
