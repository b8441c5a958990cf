import { builder } from './builder.js';

/** On updateUser; its own file because users.ts must not import groups.ts (which extends User). */
export const QuotaLimitsInput = builder.inputType('QuotaLimitsInput', {
  description: 'Per-user limits replacing what the groups give; each from 0 to 1,000,000, or null to take it from the groups.',
  fields: (t) => ({ maxSpaces: t.int(), computeUnits: t.int(), storageUnits: t.int() }),
});
