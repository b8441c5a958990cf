import { describe, expect, it } from 'vitest';
import { webhookChanges } from '../../web/src/lib/state/webhook-form.js';

const hook = { url: 'https://hooks.example.com/knot', events: ['space.started', 'user.created'], active: true };

describe('what the webhook edit form sends', () => {
  it('sends nothing when nothing changed, whatever the order of the events', () => {
    expect(webhookChanges(hook, { url: hook.url, secret: '', events: ['user.created', 'space.started'], active: true })).toEqual({});
  });

  it('keeps the secret when its field is empty, and sends only the fields that changed', () => {
    expect(webhookChanges(hook, { url: 'https://other.example.com/', secret: '', events: ['user.created'], active: false })).toEqual({
      url: 'https://other.example.com/',
      events: ['user.created'],
      active: false,
    });
    expect(webhookChanges(hook, { url: hook.url, secret: 'a-new-secret-of-16+', events: hook.events, active: true })).toEqual({ secret: 'a-new-secret-of-16+' });
  });

  it('sends an empty event list, so the server says to pick one instead of keeping the old ones silently', () => {
    expect(webhookChanges(hook, { url: hook.url, secret: '', events: [], active: true })).toEqual({ events: [] });
  });
});
