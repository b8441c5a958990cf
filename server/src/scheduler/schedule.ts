import { DateTime } from 'luxon';
import { WEEKDAYS, type Weekday } from '../../../protocol/enums.js';
import type { ScheduleWindow } from '../../../schema/db/index.js';
import { badInput } from '../errors.js';

/**
 * A template's schedule: weekly windows of wall-clock time, read in the space owner's time zone
 * (luxon resolves the zone's offsets, daylight saving included). Windows that touch or overlap
 * run together, so Mon 18:00–24:00 and Tue 00:00–08:00 are one stretch and a space running
 * across midnight is not stopped at it.
 */

export type { ScheduleWindow };

/** "08:00", or "08:00:30" where seconds matter (short test windows); "24:00" ends a day. */
const TIME = /^(?:([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?|24:00(?::00)?)$/;
const DAY_SECONDS = 24 * 3600;
const MAX_WINDOWS = 50;

export interface ScheduleWindowInput {
  days: readonly string[];
  from: string;
  to: string;
}

const secondsOf = (time: string) => {
  const m = TIME.exec(time)!;
  return m[1] === undefined ? DAY_SECONDS : Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
};

/** Checks a schedule as given to the API; BAD_USER_INPUT with the window's number otherwise. */
export function validateSchedule(input: readonly ScheduleWindowInput[]): ScheduleWindow[] {
  if (input.length > MAX_WINDOWS) throw badInput('schedule', `A schedule can have at most ${MAX_WINDOWS} windows.`);
  return input.map((w, i) => {
    const which = `Schedule window ${i + 1}`;
    if (!w.days.length) throw badInput('schedule', `${which} needs at least one day (MONDAY … SUNDAY).`);
    const days = w.days.map((d) => {
      const day = d.trim().toUpperCase();
      if (!(WEEKDAYS as readonly string[]).includes(day)) {
        throw badInput('schedule', `${which}: "${d.slice(0, 20)}" is not a day; use MONDAY, TUESDAY, … SUNDAY.`);
      }
      return day as Weekday;
    });
    for (const [field, value] of [['from', w.from], ['to', w.to]] as const) {
      if (!TIME.test(value)) throw badInput('schedule', `${which}: "${field}" must be a time like 08:00 or 08:00:30 (24-hour clock, 24:00 for midnight at the end), not "${value.slice(0, 20)}".`);
    }
    if (secondsOf(w.from) === DAY_SECONDS) throw badInput('schedule', `${which}: "from" cannot be 24:00; use 00:00 of the next day.`);
    if (secondsOf(w.from) >= secondsOf(w.to)) {
      throw badInput('schedule', `${which}: "from" (${w.from}) must be before "to" (${w.to}); for a window across midnight use two windows (… to 24:00, then 00:00 to …).`);
    }
    return { days: WEEKDAYS.filter((d) => days.includes(d)), from: w.from, to: w.to };
  });
}

/** Periods (maximum uptime, idle timeout) are whole seconds from 10 s up to a year; null turns them off. */
export function validatePeriod(field: string, label: string, value: number | null | undefined): number | null {
  if (value == null) return null;
  if (!Number.isInteger(value) || value < 10) throw badInput(field, `The ${label} must be a whole number of seconds, at least 10 (or empty for none); got ${value}.`);
  if (value > 366 * 24 * 3600) throw badInput(field, `The ${label} can be at most a year (31,622,400 seconds).`);
  return value;
}

interface Interval {
  start: number;
  end: number;
}

/** The schedule's stretches (merged windows) from the day before `now` to eight days after, in epoch ms. */
function stretches(windows: readonly ScheduleWindow[], timezone: string, now: Date): Interval[] {
  const today = DateTime.fromJSDate(now, { zone: timezone }).startOf('day');
  const found: Interval[] = [];
  for (let offset = -1; offset <= 8; offset++) {
    const day = today.plus({ days: offset });
    const weekday = WEEKDAYS[day.weekday - 1]!;
    for (const w of windows) {
      if (!w.days.includes(weekday)) continue;
      found.push({ start: wallClock(day, w.from), end: wallClock(day, w.to) });
    }
  }
  found.sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const next of found) {
    const last = merged[merged.length - 1];
    if (last && next.start <= last.end) last.end = Math.max(last.end, next.end);
    else merged.push({ ...next });
  }
  return merged;
}

/** That day's wall-clock time in the zone (a time skipped by daylight saving moves forward, as luxon does). */
function wallClock(day: DateTime, time: string): number {
  const seconds = secondsOf(time);
  if (seconds === DAY_SECONDS) return day.plus({ days: 1 }).startOf('day').toMillis();
  return day.set({ hour: Math.floor(seconds / 3600), minute: Math.floor(seconds / 60) % 60, second: seconds % 60 }).toMillis();
}

/** The end of the stretch `now` is in; `now` itself when outside every window; null without a schedule. */
export function scheduleEnd(windows: readonly ScheduleWindow[], timezone: string, now: Date): Date | null {
  if (!windows.length) return null;
  const t = now.getTime();
  const current = stretches(windows, timezone, now).find((s) => s.start <= t && t < s.end);
  return new Date(current ? current.end : t);
}

/** Null when a space may start now (no schedule, or inside a window); else when it next may. */
export function nextAllowedStart(windows: readonly ScheduleWindow[], timezone: string, now: Date): Date | null {
  if (!windows.length) return null;
  const t = now.getTime();
  const all = stretches(windows, timezone, now);
  if (all.some((s) => s.start <= t && t < s.end)) return null;
  const next = all.find((s) => s.start > t);
  // Every window names a day, so one starts within the week looked at.
  return new Date(next!.start);
}

/** "Monday 08:00 (Europe/Berlin)": how a person reads a moment of the schedule. */
export function describeInZone(at: Date, timezone: string): string {
  return `${DateTime.fromJSDate(at, { zone: timezone }).toFormat('cccc d LLLL yyyy HH:mm')} (${timezone})`;
}
