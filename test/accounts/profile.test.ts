import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';

const UPDATE = `mutation($input: UpdateProfileInput!) {
  updateProfile(input: $input) { email preferredShell timezone sshPublicKey }
}`;
const ME = `{ me { username email preferredShell timezone sshPublicKey } }`;
type Me = { username: string; email: string; preferredShell: string; timezone: string; sshPublicKey: string };
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0s4T1kBexampleexampleexampleexampleexamp bob@laptop';

describe('profile (me, updateProfile)', () => {
  let server: TestServer;
  let bob: GraphQLTestClient;
  const me = async () => (await bob.data<{ me: Me }>(ME)).me;

  beforeAll(async () => {
    server = await startTestServer();
    const admin = (await setupAdmin(server)).client;
    bob = (await createUser(server, admin, 'bob')).client;
  });
  afterAll(() => server.stop());

  it('starts with defaults: bash, UTC, no SSH key', async () => {
    expect(await me()).toEqual({ username: 'bob', email: 'bob@example.com', preferredShell: 'bash', timezone: 'UTC', sshPublicKey: '' });
  });

  it('changes email, shell, timezone and SSH key together', async () => {
    const res = await bob.data<{ updateProfile: Omit<Me, 'username'> }>(UPDATE, {
      input: { email: 'robert@example.com', preferredShell: 'zsh', timezone: 'Europe/London', sshPublicKey: KEY },
    });
    expect(res.updateProfile).toEqual({ email: 'robert@example.com', preferredShell: 'zsh', timezone: 'Europe/London', sshPublicKey: KEY });
    expect(await me()).toMatchObject({ email: 'robert@example.com', preferredShell: 'zsh', timezone: 'Europe/London', sshPublicKey: KEY });
  });

  it('accepts every supported shell and refuses others', async () => {
    for (const shell of ['bash', 'zsh', 'fish', 'sh']) {
      expect((await bob.data<{ updateProfile: Me }>(UPDATE, { input: { preferredShell: shell } })).updateProfile.preferredShell).toBe(shell);
    }
    const res = await bob.request(UPDATE, { input: { preferredShell: 'csh' } });
    expect(res.errors).toBeDefined();
    expect(res.status).not.toBe(500);
    expect((await me()).preferredShell).toBe('sh');
  });

  it('refuses an invalid timezone with BAD_USER_INPUT and changes nothing', async () => {
    const res = await bob.request(UPDATE, { input: { timezone: 'Mars/Olympus_Mons', preferredShell: 'fish' } });
    expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.message).toMatch(/time zone/);
    expect(await me()).toMatchObject({ timezone: 'Europe/London', preferredShell: 'sh' });
  });

  it('refuses something that is not an SSH public key', async () => {
    const res = await bob.request(UPDATE, { input: { sshPublicKey: '-----BEGIN OPENSSH PRIVATE KEY-----' } });
    expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect((await me()).sshPublicKey).toBe(KEY);
  });

  it('refuses an email that another user has, with NAME_TAKEN', async () => {
    const res = await bob.request(UPDATE, { input: { email: 'ADMIN@example.com' } });
    expect(res.errors![0]!.extensions!.code).toBe('NAME_TAKEN');
    expect((await me()).email).toBe('robert@example.com');
  });

  it('changes the password only with the correct current one', async () => {
    const wrong = await bob.request(UPDATE, { input: { currentPassword: 'not-my-password', newPassword: 'battery-staple', timezone: 'Asia/Tokyo' } });
    expect(wrong.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(wrong.errors![0]!.message).toBe('The current password is wrong.');
    expect((await me()).timezone).toBe('Europe/London');
    await server.anonymous.login('bob', 'correct-horse'); // still the old one

    const missing = await bob.request(UPDATE, { input: { newPassword: 'battery-staple' } });
    expect(missing.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');

    await bob.data(UPDATE, { input: { currentPassword: 'correct-horse', newPassword: 'battery-staple' } });
    const session = await server.anonymous.login('bob', 'battery-staple');
    expect((await session.data<{ me: Me }>(ME)).me.username).toBe('bob');
    const old = await server.anonymous.request(`mutation { login(username: "bob", password: "correct-horse") { id } }`);
    expect(old.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a new password that is too short', async () => {
    const res = await bob.request(UPDATE, { input: { currentPassword: 'battery-staple', newPassword: 'short' } });
    expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    await server.anonymous.login('bob', 'battery-staple');
  });

  it('answers me: null to nobody and UNAUTHENTICATED to updateProfile', async () => {
    expect((await server.anonymous.data<{ me: unknown }>(ME)).me).toBeNull();
    expect(await server.anonymous.errorCode(UPDATE, { input: { timezone: 'UTC' } })).toBe('UNAUTHENTICATED');
  });
});
