/**
 * Webhooks hear a real space's life on a real Docker engine: created, started, stopped, failed
 * when its container dies, deleted — each once, in order, signed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { busyboxJob, containerOf, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { createUser } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { startReceiver, verify } from './receiver.js';

const SECRET = 'space-events-webhook-secret';
let h: SpacesHarness;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  receiver = await startReceiver();
  h = await startSpacesHarness({ config: { webhookAllowPrivate: true } });
  const created = await h.admin.client.request(`mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id } }`, {
    i: {
      url: receiver.url('/spaces'),
      secret: SECRET,
      events: ['space.created', 'space.started', 'space.stopped', 'space.failed', 'space.deleted'],
    },
  });
  expect(created.errors).toBeUndefined();
});

afterAll(async () => {
  await h?.dispose();
  await receiver?.close();
});

const eventsOf = (spaceId: string) => receiver.on('/spaces').filter((r) => r.json.data.space?.id === spaceId);
const namesOf = (spaceId: string) => eventsOf(spaceId).map((r) => r.json.event);
const waitForEvents = (spaceId: string, n: number) =>
  waitFor(() => eventsOf(spaceId).length >= n, { what: `${n} events`, timeout: 30_000 }).then(() => namesOf(spaceId));

it('sends created, started, stopped and deleted for a real space, once each, in order', async () => {
  const template = await h.createTemplate({ name: 'hooked', job: busyboxJob() });
  const space = await h.createSpace({ templateId: template.id, name: 'hooked' });
  expect(await waitForEvents(space.id, 1)).toEqual(['space.created']);

  await h.startAndWait(space.id);
  expect(await waitForEvents(space.id, 2)).toEqual(['space.created', 'space.started']);
  const started = eventsOf(space.id)[1]!;
  expect(verify(SECRET, started.headers, started.body)).toBe(true);
  expect(started.headers['x-knot-event']).toBe('space.started');
  expect(started.json.data).toMatchObject({ space: { id: space.id, name: 'hooked', status: 'RUNNING', templateId: template.id }, owner: { id: h.admin.userId, username: 'admin' } });

  await h.stopAndWait(space.id);
  expect(await waitForEvents(space.id, 3)).toEqual(['space.created', 'space.started', 'space.stopped']);
  expect(eventsOf(space.id)[2]!.json.data.space.status).toBe('STOPPED');

  const deleted = await h.admin.client.request(`mutation($id: ID!) { deleteSpace(id: $id) }`, { id: space.id });
  expect(deleted.errors).toBeUndefined();
  expect(await waitForEvents(space.id, 4)).toEqual(['space.created', 'space.started', 'space.stopped', 'space.deleted']);
  // Every event once: nothing more arrives for it.
  expect(new Set(eventsOf(space.id).map((r) => r.json.id)).size).toBe(4);
});

it('sends failed when a running space\'s container dies', async () => {
  const template = await h.createTemplate({ name: 'dies', job: busyboxJob() });
  const space = await h.createSpace({ templateId: template.id, name: 'dies' });
  await h.startAndWait(space.id);
  await waitForEvents(space.id, 2);
  // Killed behind Knot's back: the Docker events stream tells the reconciler, which fails the space.
  await h.runtime.stopAndRemoveContainer(containerOf(space.id), { timeoutSeconds: 0 });
  expect(await waitForEvents(space.id, 3)).toEqual(['space.created', 'space.started', 'space.failed']);
  expect(eventsOf(space.id)[2]!.json.data).toMatchObject({ space: { status: 'FAILED', error: expect.any(String) }, transition: 'died' });
});

it('sends shared and transferred, naming the user it was shared with and both owners', async () => {
  const hook = await h.admin.client.request<{ createWebhook: { id: string } }>(`mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id } }`, {
    i: { url: receiver.url('/teams'), secret: SECRET, events: ['space.shared', 'space.transferred'] },
  });
  expect(hook.errors).toBeUndefined();
  const ada = await createUser(h.server, h.admin.client, 'ada');
  const template = await h.createTemplate({ name: 'handed', job: busyboxJob() });
  const space = await h.createSpace({ templateId: template.id, name: 'handed' });

  const shared = await h.admin.client.request(`mutation($id: ID!, $u: ID!) { shareSpace(id: $id, userId: $u) { id } }`, { id: space.id, u: ada.userId });
  expect(shared.errors).toBeUndefined();
  const transferred = await h.admin.client.request(`mutation($id: ID!, $u: ID!) { transferSpace(id: $id, userId: $u) { id } }`, { id: space.id, u: ada.userId });
  expect(transferred.errors).toBeUndefined();

  const got = await waitFor(() => (receiver.on('/teams').length >= 2 ? receiver.on('/teams') : null), { what: 'both events' });
  expect(got.map((r) => r.json.event)).toEqual(['space.shared', 'space.transferred']);
  expect(got[0]!.json.data).toMatchObject({ space: { id: space.id }, owner: { username: 'admin' }, sharedWith: { id: ada.userId, username: 'ada' } });
  expect(got[1]!.json.data).toMatchObject({ space: { id: space.id }, owner: { id: ada.userId, username: 'ada' }, previousOwner: { id: h.admin.userId, username: 'admin' } });
  expect(got.every((r) => verify(SECRET, r.headers, r.body))).toBe(true);
});
