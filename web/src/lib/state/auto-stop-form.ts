/**
 * The template form's automatic-stop settings as a person types them (a period in minutes or
 * seconds, schedule windows as day checkboxes and two times) and as the API takes them (whole
 * seconds or null, windows of day names). Plain functions, so the conversions are unit-tested.
 */

export const WEEKDAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;
export type WeekdayName = (typeof WEEKDAYS)[number];

export type PeriodUnit = 'minutes' | 'seconds';
/** What the inputs hold: the amount ('' or null for none; a number input bound in Svelte gives a number) and its unit. */
export interface PeriodDraft {
  amount: string | number | null;
  unit: PeriodUnit;
}
export interface WindowDraft {
  days: WeekdayName[];
  from: string;
  to: string;
}

/** A saved period in the unit it reads best in: whole minutes as minutes, anything else in seconds. */
export function periodDraft(seconds: number | null | undefined): PeriodDraft {
  if (seconds == null) return { amount: '', unit: 'minutes' };
  return seconds % 60 === 0 ? { amount: String(seconds / 60), unit: 'minutes' } : { amount: String(seconds), unit: 'seconds' };
}

/**
 * Seconds for the API; null when empty (no limit). Anything else typed goes to the server as a
 * number (NaN becomes -1) so its BAD_USER_INPUT, with the rule in words, is what the person reads.
 */
export function periodSeconds(draft: PeriodDraft): number | null {
  const text = draft.amount == null ? '' : String(draft.amount).trim();
  if (!text) return null;
  const amount = Number(text);
  if (!Number.isFinite(amount)) return -1;
  return Math.round(draft.unit === 'minutes' ? amount * 60 : amount);
}

/** A new window: working hours on weekdays, the common case, edited from there. */
export const newWindow = (): WindowDraft => ({ days: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'], from: '08:00', to: '18:00' });

/** Days in week order, whatever order they were ticked in. */
export function toggleDay(days: readonly WeekdayName[], day: WeekdayName, on: boolean): WeekdayName[] {
  return WEEKDAYS.filter((d) => (d === day ? on : days.includes(d)));
}

/** The windows as the API takes them (no extra fields such as a response's __typename). */
export const scheduleInput = (windows: readonly WindowDraft[]) => windows.map((w) => ({ days: [...w.days], from: w.from, to: w.to }));
