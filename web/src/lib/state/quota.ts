/**
 * What a user's usage (me.usage, User.usage) means for the next create or start. Pure, so
 * test/web can check it; the server decides in the end (QUOTA_EXCEEDED), this only says it first.
 */
import type { Usage } from '../api/types.js';

interface Sized {
  computeUnits: number;
  storageUnits: number;
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** Why a new space of `template` would be refused now, in the server's words, or null. */
export function createBlockedBy(usage: Usage | null | undefined, template: Sized): string | null {
  if (!usage) return null;
  if (usage.maxSpaces !== null && usage.spaces + 1 > usage.maxSpaces) {
    return `${usage.spaces} of ${plural(usage.maxSpaces, 'space')} in use; delete one before creating another.`;
  }
  if (usage.maxStorageUnits !== null && usage.storageUnits + template.storageUnits > usage.maxStorageUnits) {
    return `${usage.storageUnits} of ${plural(usage.maxStorageUnits, 'storage unit')} in use; this template needs ${template.storageUnits}.`;
  }
  return null;
}

/** Why starting a space of `template` would be refused now (compute units count while running), or null. */
export function startBlockedBy(usage: Usage | null | undefined, template: Sized): string | null {
  if (!usage || usage.maxComputeUnits === null) return null;
  if (usage.computeUnits + template.computeUnits <= usage.maxComputeUnits) return null;
  return `${usage.computeUnits} of ${plural(usage.maxComputeUnits, 'compute unit')} in use; this template needs ${template.computeUnits}.`;
}

export interface MeterLine {
  label: string;
  used: number;
  max: number | null;
  /** 0…1 of the limit, null when unlimited. */
  fraction: number | null;
  full: boolean;
}

/** The meter's rows: spaces, compute units of running spaces, storage units of all spaces. */
export function meterLines(usage: Usage): MeterLine[] {
  const line = (label: string, used: number, max: number | null): MeterLine => ({
    label,
    used,
    max,
    fraction: max === null ? null : max === 0 ? 1 : Math.min(1, used / max),
    full: max !== null && used >= max,
  });
  return [
    line('Spaces', usage.spaces, usage.maxSpaces),
    line('Compute units', usage.computeUnits, usage.maxComputeUnits),
    line('Storage units', usage.storageUnits, usage.maxStorageUnits),
  ];
}

/** True when any limit applies: a user in no group has none, and the meter stays out of the way. */
export const hasLimits = (usage: Usage | null | undefined): usage is Usage =>
  !!usage && (usage.maxSpaces !== null || usage.maxComputeUnits !== null || usage.maxStorageUnits !== null);
