import { describe, expect, it } from 'vitest';
import { createBlockedBy, hasLimits, meterLines, startBlockedBy } from '../../web/src/lib/state/quota.js';

const usage = (over: Partial<Parameters<typeof meterLines>[0]> = {}) => ({
  spaces: 0,
  maxSpaces: null,
  computeUnits: 0,
  maxComputeUnits: null,
  storageUnits: 0,
  maxStorageUnits: null,
  ...over,
});
const template = { computeUnits: 2, storageUnits: 3 };

describe('what the UI says about quotas before the server does', () => {
  it('says nothing for a user without limits (in no group), and hides the meter', () => {
    expect(createBlockedBy(usage({ spaces: 50, storageUnits: 900 }), template)).toBeNull();
    expect(startBlockedBy(usage({ computeUnits: 900 }), template)).toBeNull();
    expect(hasLimits(usage())).toBe(false);
    expect(hasLimits(null)).toBe(false);
  });

  it('allows the last space and refuses the next, with the figures the server gives', () => {
    expect(createBlockedBy(usage({ spaces: 2, maxSpaces: 3 }), template)).toBeNull();
    expect(createBlockedBy(usage({ spaces: 3, maxSpaces: 3 }), template)).toBe('3 of 3 spaces in use; delete one before creating another.');
    expect(createBlockedBy(usage({ spaces: 1, maxSpaces: 1 }), template)).toBe('1 of 1 space in use; delete one before creating another.');
  });

  it('counts the template\'s storage on top of what is held, and its compute units only to start', () => {
    expect(createBlockedBy(usage({ storageUnits: 7, maxStorageUnits: 10 }), template)).toBeNull();
    expect(createBlockedBy(usage({ storageUnits: 8, maxStorageUnits: 10 }), template)).toBe('8 of 10 storage units in use; this template needs 3.');
    expect(startBlockedBy(usage({ computeUnits: 2, maxComputeUnits: 4 }), template)).toBeNull();
    expect(startBlockedBy(usage({ computeUnits: 3, maxComputeUnits: 4 }), template)).toBe('3 of 4 compute units in use; this template needs 2.');
  });

  it('draws a meter line per limit, full at the limit, and "unlimited" without one', () => {
    const lines = meterLines(usage({ spaces: 1, maxSpaces: 1, computeUnits: 1, maxComputeUnits: 4, maxStorageUnits: 0 }));
    expect(lines).toEqual([
      { label: 'Spaces', used: 1, max: 1, fraction: 1, full: true },
      { label: 'Compute units', used: 1, max: 4, fraction: 0.25, full: false },
      { label: 'Storage units', used: 0, max: 0, fraction: 1, full: true },
    ]);
    expect(meterLines(usage())[0]).toMatchObject({ fraction: null, full: false });
  });
});
