import { createHash } from 'node:crypto';

/**
 * The replication slot and publication of a deployment: `ferry_<instance>`,
 * made a valid slot name (lower-case letters, digits, underscores, at most
 * 63 characters; a long or changed name ends in a hash of the instance).
 * Slots are the cluster's, so the instance (the database's name by default)
 * keeps two deployments on one server apart.
 */
export function slotName(instance: string): string {
  const plain = `ferry_${instance}`;
  const clean = plain.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (clean === plain && clean.length <= 63) return clean;
  const hash = createHash('md5').update(instance).digest('hex').slice(0, 8);
  return `${clean.slice(0, 54)}_${hash}`;
}

/** The publication has the slot's name (publications are the database's). */
export const publicationName = slotName;
