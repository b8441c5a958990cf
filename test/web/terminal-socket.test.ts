import { describe, expect, it } from 'vitest';
import { closeMessage, resizeMessage, terminalUrl } from '../../web/src/lib/components/terminal/terminal-socket.js';

describe('the terminal protocol', () => {
  it('connects to the space terminal path with the size, over wss on https', () => {
    expect(terminalUrl({ protocol: 'http:', host: 'knot.local:3000' }, 'abc', 120, 40)).toBe('ws://knot.local:3000/spaces/abc/terminal?cols=120&rows=40');
    expect(terminalUrl({ protocol: 'https:', host: 'knot.example.com' }, 'abc', 80, 24)).toBe('wss://knot.example.com/spaces/abc/terminal?cols=80&rows=24');
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
