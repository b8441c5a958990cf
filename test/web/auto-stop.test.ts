import { describe, expect, it } from 'vitest';
import { autoStopCountdown, canKeepRunning, formatRemaining, stoppedBecause } from '../../web/src/lib/state/auto-stop.js';

describe('what the Spaces page says about automatic stops', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  const at = (ms: number) => new Date(now + ms).toISOString();

  it('counts down in words a person reads at a glance, rounding up', () => {
    expect(autoStopCountdown(at(9 * 60_000), 'IDLE', now)).toBe('Stops in 9 min — idle');
    expect(autoStopCountdown(at(8 * 60_000 + 1), 'IDLE', now)).toBe('Stops in 9 min — idle');
    expect(autoStopCountdown(at(45_000), 'MAX_UPTIME', now)).toBe('Stops in 45 s — maximum uptime');
    expect(autoStopCountdown(at(125 * 60_000), 'SCHEDULE', now)).toBe('Stops in 2 h 5 min — end of schedule');
    expect(autoStopCountdown(at(-1_000), 'IDLE', now)).toBe('Stopping now — idle');
    expect(formatRemaining(3 * 3_600_000)).toBe('3 h');
  });

  it('says nothing when no stop is planned', () => {
    expect(autoStopCountdown(null, null, now)).toBeNull();
    expect(autoStopCountdown(at(60_000), null, now)).toBeNull();
  });

  it('offers Keep running only for stops it can move, and says why a space was stopped', () => {
    expect([canKeepRunning('IDLE'), canKeepRunning('MAX_UPTIME'), canKeepRunning('SCHEDULE'), canKeepRunning(null)]).toEqual([true, true, false, false]);
    expect(stoppedBecause('IDLE')).toMatch(/idle timeout/);
    expect(stoppedBecause('SCHEDULE')).toMatch(/schedule window ended/);
    expect(stoppedBecause(null)).toBeNull();
  });
});
