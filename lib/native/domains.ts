/**
 * Which measured domains add up to a device's energy. One rule, used by the tracker's CPU
 * component and by measureEnergy's per-device figures.
 */
import type { DomainInfo } from './types.js';

/**
 * Positions (in `domains`) of the domains whose energies sum to a device's energy (or to every
 * device's, when `device` is omitted): the top-level domains (a subzone is contained in its
 * parent and is never added to it), except `psys`, which contains the packages and counts only
 * where it is the device's only top-level domain.
 */
export function summedDomainIndices(domains: readonly DomainInfo[], device?: DomainInfo['device']): number[] {
  const indices: number[] = [];
  for (let i = 0; i < domains.length; i++) {
    const d = domains[i]!;
    if (d.parentId !== null || (device !== undefined && d.device !== device)) continue;
    if (d.kind === 'psys' && domains.some((o, j) => j !== i && o.device === d.device && o.parentId === null && o.kind !== 'psys')) continue;
    indices.push(i);
  }
  return indices;
}
