import { describe, expect, it } from 'vitest';
import type { SpaceStatus } from '../../web/src/lib/api/types.js';
import { forwardPortCommand, localUrl, spaceMenu, splitPorts, sshCommand, STATUS_LABELS, whyNotTransferable } from '../../web/src/lib/state/space-view.js';
import { space } from './fixtures.js';

const labels = (...args: Parameters<typeof spaceMenu>) => spaceMenu(...args).map((e) => (e.disabled ? `(${e.label})` : e.label));

describe('the space menu follows the guide', () => {
  it('offers Start, Edit and Delete on a stopped space, and Start again after a failure', () => {
    expect(labels(space({ id: 'a' }))).toEqual(['Start', 'Edit', 'Delete']);
    expect(labels(space({ id: 'a', status: 'FAILED', error: 'exit 1' }))).toEqual(['Start', 'Edit', 'Delete']);
  });

  it('reads "Starting" while the start is on its way or the space is starting', () => {
    expect(labels(space({ id: 'a' }), 'start')).toEqual(['(Starting)', 'Edit']);
    expect(labels(space({ id: 'a', status: 'STARTING' }))).toEqual(['(Starting)', 'Edit']);
  });

  it('offers Stop and Restart on a running space, SSH Info only when SSH answers, and never Delete', () => {
    const running = space({ id: 'a', status: 'RUNNING' });
    expect(labels(running)).toEqual(['Stop', 'Restart', 'Edit']);
    expect(labels({ ...running, services: { ...running.services, ssh: true } })).toEqual(['Stop', 'Restart', 'Edit', 'SSH Info']);
    expect(labels(running, 'stop')).toEqual(['(Stopping)', 'Edit']);
  });

  it('never offers Start for a manual template: its agent starts it, set up from Agent Setup', () => {
    const manual = space({ id: 'a', template: { id: 't', name: 'Laptop', platform: 'MANUAL' } });
    expect(labels(manual, null, 'me')).toEqual(['Edit', 'Share', 'Transfer', 'Agent Setup', 'Delete']);
    expect(labels({ ...manual, status: 'RUNNING' }, null, 'me')).toEqual(['Edit', 'Share', 'Transfer', 'Agent Setup']);
  });

  it('offers Agent Setup only to the owner: the agent acts as them, so not even an admin may set it up', () => {
    const manual = space({ id: 'a', template: { id: 't', name: 'Laptop', platform: 'MANUAL' }, owner: { id: 'someone-else', username: 'someone' } });
    expect(labels(manual, null, 'me')).toEqual(['Edit', 'Delete']);
    expect(labels(manual, null, 'me', true)).toEqual(['Edit', 'Transfer', 'Delete']);
  });

  it('offers a user a space is shared with Start/Stop but not Edit, Delete, Share or Transfer; the owner shares and hands over', () => {
    const shared = space({ id: 'a', owner: { id: 'alice', username: 'alice' }, sharedWith: [{ id: 'me', username: 'me' }] });
    expect(labels(shared, null, 'me')).toEqual(['Start']);
    expect(labels({ ...shared, status: 'RUNNING' }, null, 'me')).toEqual(['Stop', 'Restart']);
    expect(labels(shared, null, 'alice')).toEqual(['Start', 'Edit', 'Share', 'Transfer', 'Delete']);
    expect(whyNotTransferable({ name: 'web', status: 'RUNNING' })).toMatch(/stop it first/);
    expect(whyNotTransferable({ name: 'web', status: 'STOPPED' })).toBeNull();
  });

  it('offers nothing while a space is being deleted', () => {
    expect(labels(space({ id: 'a', status: 'DELETING' }))).toEqual(['(Deleting)']);
    expect(labels(space({ id: 'a' }), 'delete')).toEqual(['(Deleting)']);
  });

  it('names every status as the guide does', () => {
    const all: SpaceStatus[] = ['STOPPED', 'STARTING', 'RUNNING', 'STOPPING', 'DELETING', 'FAILED'];
    expect(all.map((s) => STATUS_LABELS[s])).toEqual(['Stopped', 'Starting', 'Running', 'Stopping', 'Deleting', 'Failed']);
  });
});

describe('ports and commands', () => {
  it('puts web ports with a URL in the solid group and everything else (TCP, no URL yet) in the forward group', () => {
    const { web, forward } = splitPorts([
      { name: 'app', port: 8080, protocol: 'HTTP', url: 'https://alice--mytest--8080.knot.example.com' },
      { name: 'db', port: 5432, protocol: 'TCP', url: null },
      { name: 'admin', port: 8443, protocol: 'HTTPS', url: null },
    ]);
    expect(web.map((p) => p.port)).toEqual([8080]);
    expect(forward.map((p) => p.port)).toEqual([5432, 8443]);
  });

  it("opens ports on Knot's own address from wherever the page was loaded, and wildcard URLs as they are", () => {
    expect(localUrl('http://localhost:3000/spaces/s1/ports/8080/', 'http://localhost:3000')).toBe('/spaces/s1/ports/8080/');
    expect(localUrl('https://alice--mytest--8080.knot.example.com/', 'https://knot.example.com')).toBe('https://alice--mytest--8080.knot.example.com/');
    expect(localUrl('http://localhost:3000/x', null)).toBe('http://localhost:3000/x');
  });

  it('writes the knot forward commands', () => {
    expect(forwardPortCommand('mytest', 5432)).toBe('knot forward port 5432 mytest 5432');
    expect(sshCommand('mytest')).toBe('ssh -o ProxyCommand="knot forward ssh %n" mytest');
  });
});
