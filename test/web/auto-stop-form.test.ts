import { describe, expect, it } from 'vitest';
import { newWindow, periodDraft, periodSeconds, scheduleInput, toggleDay } from '../../web/src/lib/state/auto-stop-form.js';

describe('the template form’s automatic-stop settings', () => {
  it('shows a saved period in minutes when it is whole minutes, else in seconds, and empty for none', () => {
    expect(periodDraft(3_600)).toEqual({ amount: '60', unit: 'minutes' });
    expect(periodDraft(10)).toEqual({ amount: '10', unit: 'seconds' });
    expect(periodDraft(null)).toEqual({ amount: '', unit: 'minutes' });
  });

  it('sends seconds, null for an empty field, and leaves wrong numbers for the server to refuse in words', () => {
    expect(periodSeconds({ amount: '15', unit: 'minutes' })).toBe(900);
    expect(periodSeconds({ amount: ' 10 ', unit: 'seconds' })).toBe(10);
    expect(periodSeconds({ amount: '', unit: 'minutes' })).toBeNull();
    expect(periodSeconds({ amount: null, unit: 'minutes' })).toBeNull();
    expect(periodSeconds({ amount: 2, unit: 'minutes' })).toBe(120);
    expect(periodSeconds({ amount: '5', unit: 'seconds' })).toBe(5);
    expect(periodSeconds({ amount: 'soon', unit: 'seconds' })).toBe(-1);
  });

  it('keeps days in week order and sends windows without extra fields', () => {
    expect(toggleDay(['FRIDAY', 'MONDAY'], 'WEDNESDAY', true)).toEqual(['MONDAY', 'WEDNESDAY', 'FRIDAY']);
    expect(toggleDay(['MONDAY', 'FRIDAY'], 'MONDAY', false)).toEqual(['FRIDAY']);
    const fromServer = { ...newWindow(), __typename: 'ScheduleWindow' };
    expect(scheduleInput([fromServer])).toEqual([{ days: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'], from: '08:00', to: '18:00' }]);
  });
});
