import { hostname } from 'node:os';
import { KnotApi } from '../api.js';
import { CREATE_API_TOKEN, LOGIN, LOGOUT, ME } from '../documents.js';
import { normalizeServer, writeConfig } from '../config.js';
import { CliError, EXIT } from '../errors.js';
import { openPrompter } from '../prompt.js';

/**
 * Stores the server and an API token. Without --token it logs in with a username and password
 * (and a two-factor code when the server answers TOTP_REQUIRED), creates a token named after
 * this machine, and ends that browser-style session again.
 */
export async function loginCommand(serverArg: string, options: { token?: string }) {
  const server = normalizeServer(serverArg);
  let token = options.token;
  if (!token) {
    const prompter = openPrompter();
    const session = new KnotApi(server);
    try {
      let answers: string[];
      try {
        answers = await prompter.ask([{ prompt: 'Username: ' }, { prompt: 'Password: ', secret: true }]);
      } catch {
        throw new CliError('A username and password are needed (or pass --token).', EXIT.usage);
      }
      const credentials = { username: answers[0]!.trim(), password: answers[1]! };
      await session.request(LOGIN, credentials).catch(async (err: CliError) => {
        if (err.code !== 'TOTP_REQUIRED') throw err;
        // Two-factor sign-in: ask for the app's code (or a recovery code) and try once more.
        let code: string;
        try {
          [code] = (await prompter.ask([{ prompt: 'Two-factor code (or a recovery code): ', secret: true }])) as [string];
        } catch {
          throw new CliError('This account signs in with a two-factor code; none was given.', EXIT.usage);
        }
        const second = /^\s*\d{6}\s*$/.test(code) ? { totp: code.trim() } : { recoveryCode: code.trim() };
        await session.request(LOGIN, { ...credentials, ...second });
      });
    } finally {
      prompter.close();
    }
    const created = await session.request(CREATE_API_TOKEN, { name: `knot CLI on ${hostname()}`.slice(0, 64) });
    token = created.createApiToken.token;
    await session.request(LOGOUT).catch(() => {});
  }
  const api = new KnotApi(server, token);
  const rejected = new CliError(`${server} did not accept that token; nothing was saved.`, EXIT.auth);
  const me = await api.request(ME).catch((err: CliError) => {
    throw err.exitCode === EXIT.auth ? rejected : err;
  });
  if (!me.me) throw rejected;
  const file = writeConfig({ server, token });
  console.log(`Logged in to ${server} as ${me.me.username} (token saved in ${file}).`);
}
