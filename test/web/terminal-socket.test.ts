import { describe, expect, it } from 'vitest';
import { closeMessage, resizeMessage, shouldReattach, terminalUrl } from '../../web/src/lib/components/terminal/terminal-socket.js';

describe('the terminal protocol', () => {
  it('connects to the space terminal path with the size, over wss on https', () => {
    expect(terminalUrl({ protocol: 'http:', host: 'knot.local:3000' }, 'abc', 120, 40)).toBe('ws://knot.local:3000/spaces/abc/terminal?cols=120&rows=40');
    expect(terminalUrl({ protocol: 'https:', host: 'knot.example.com' }, 'abc', 80, 24)).toBe('wss://knot.example.com/spaces/abc/terminal?cols=80&rows=24');
  });

  it('reattaches to a session, from the output position the page already shows', () => {
    expect(terminalUrl({ protocol: 'http:', host: 'h' }, 'abc', 80, 24, { session: 's-1' })).toBe('ws://h/spaces/abc/terminal?cols=80&rows=24&session=s-1');
    expect(terminalUrl({ protocol: 'http:', host: 'h' }, 'abc', 80, 24, { session: 's-1', from: 4096 })).toBe(
      'ws://h/spaces/abc/terminal?cols=80&rows=24&session=s-1&from=4096',
    );
  });

  it('reattaches by itself after a dropped network or a restart, not after the shell ended or a refusal', () => {
    expect([1001, 1006, 1011, 1012].every(shouldReattach)).toBe(true);
    expect([1000, 4401, 4404, 4409, 4410, 4400, 1009].some(shouldReattach)).toBe(false);
  });

  it('sends resizes as JSON text frames', () => {
    expect(JSON.parse(resizeMessage(100, 30))).toEqual({ type: 'resize', cols: 100, rows: 30 });
  });

  it("shows the server's reason when it closes, and a sentence when it gives none", () => {
    expect(closeMessage(1000, 'The shell exited with code 0.')).toBe('The shell exited with code 0.');
    expect(closeMessage(1006, '')).toBe('The connection to Knot was lost.');
    expect(closeMessage(4404, '')).toBe('The terminal closed (4404).');
  });
});
