/**
 * `knot login` on an account with two-factor sign-in: it asks for the code when the server answers
 * TOTP_REQUIRED (piped answers here, as a script would give them), and saves nothing when the code
 * is wrong or missing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { runCli } from './run-cli.js';

const STEP_MS = 30_000;
const codeAt = (secret: string, steps = 0) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: Date.now() + steps * STEP_MS });

describe('knot login with two-factor sign-in', () => {
  let server: TestServer;
  let secret: string;
  let recoveryCodes: string[];
  const homes: string[] = [];
  const home = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'knot-cli-home-'));
    homes.push(dir);
    return dir;
  };
  const configOf = (dir: string) => path.join(dir, '.config', 'knot', 'config.json');

  beforeAll(async () => {
    server = await startTestServer();
    const admin = await setupAdmin(server);
    const alice = await createUser(server, admin.client, 'alice');
    secret = (await alice.client.data<{ enableTotp: { secret: string } }>(`mutation { enableTotp { secret } }`)).enableTotp.secret;
    // With six seconds or more left in this step, the previous step's code is still good for the confirmation.
    await waitFor(() => STEP_MS - (Date.now() % STEP_MS) > 6_000, { timeout: 10_000, interval: 200, what: 'a fresh TOTP step' });
    recoveryCodes = (await alice.client.data<{ confirmTotp: string[] }>(`mutation($c: String!) { confirmTotp(code: $c) }`, { c: codeAt(secret, -1) })).confirmTotp;
  });
  afterAll(async () => {
    for (const dir of homes) rmSync(dir, { recursive: true, force: true });
    await server?.stop();
  });

  it('asks for the code and logs in with it', async () => {
    const dir = home();
    const res = await runCli(dir, ['login', server.url], `alice\ncorrect-horse\n${codeAt(secret)}\n`);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/Username: Password: Two-factor code \(or a recovery code\): /);
    expect(res.stdout).toMatch(/as alice/);
    const saved = JSON.parse(readFileSync(configOf(dir), 'utf8'));
    expect((await server.client(saved.token).data<{ me: { username: string } }>(`{ me { username } }`)).me.username).toBe('alice');
  });

  it('takes a recovery code instead', async () => {
    const dir = home();
    const res = await runCli(dir, ['login', server.url], `alice\ncorrect-horse\n${recoveryCodes[0]}\n`);
    expect(res.code, res.stderr).toBe(0);
    expect(existsSync(configOf(dir))).toBe(true);
  });

  it("refuses a wrong code with the server's reason and saves nothing", async () => {
    const dir = home();
    const res = await runCli(dir, ['login', server.url], `alice\ncorrect-horse\nnot-a-recovery-code\n`);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/recovery code is wrong or was already used/);
    expect(existsSync(configOf(dir))).toBe(false);
  });

  it('says a code is needed when none is given', async () => {
    const dir = home();
    const res = await runCli(dir, ['login', server.url], `alice\ncorrect-horse\n`);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/two-factor code; none was given/);
    expect(existsSync(configOf(dir))).toBe(false);
  });
});
