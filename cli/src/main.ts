import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { KnotApi } from './api.js';
import { actionCommand, keepCommand, listCommand, watchCommand } from './commands/spaces.js';
import { forwardPortCommand, forwardSshCommand } from './commands/forward.js';
import { loginCommand } from './commands/login.js';
import { sshConfigUpdateCommand } from './commands/ssh-config.js';
import { readConfig } from './config.js';
import { CliError, EXIT } from './errors.js';

/** Every command but login needs the stored server and token. */
function api(): KnotApi {
  const config = readConfig();
  return new KnotApi(config.server, config.token);
}

/** Runs a command with a logged-in client and always closes its sockets. */
function withApi<A extends unknown[]>(run: (api: KnotApi, ...args: A) => Promise<void>) {
  return async (...args: A) => {
    const client = api();
    try {
      await run(client, ...args);
    } finally {
      await client.close();
    }
  };
}

function portArgument(min: number) {
  return (value: string): number => {
    const port = Number(value);
    if (!Number.isInteger(port) || port < min || port > 65535) throw new InvalidArgumentError(`a port number from ${min} to 65535 is needed.`);
    return port;
  };
}

const program = new Command('knot')
  .description('Work with your Knot spaces from the command line.')
  .exitOverride()
  .addHelpText(
    'after',
    `
Exit codes: 0 done, 1 refused or the space failed, 2 wrong arguments, 3 not logged in
(or the token was revoked), 4 the server could not be reached.`,
  );

program
  .command('login <server>')
  .description('Store the server and an API token (asks for your username and password unless --token is given).')
  .option('--token <token>', 'an API token created in the web UI')
  .action(loginCommand);

const spaces = program.command('spaces').description('List, start, stop and watch your spaces.');
spaces.command('list').description('Your spaces and their status.').option('--json', 'machine-readable output').action(withApi(listCommand));
for (const verb of ['start', 'stop', 'restart'] as const) {
  spaces
    .command(`${verb} <name>`)
    .description(`${verb[0]!.toUpperCase()}${verb.slice(1)} a space.`)
    .option('--wait', `wait until it is ${verb === 'stop' ? 'STOPPED' : 'RUNNING'} (exit 1 with the error if it FAILS)`)
    .action(withApi((client, name: string, options: { wait?: boolean }) => actionCommand(client, verb, name, options)));
}
spaces
  .command('keep <name>')
  .description('Keep a space running: move its idle or maximum-uptime stop one period later.')
  .action(withApi(keepCommand));
spaces
  .command('watch [name]')
  .description('Print a line for every change of a space (or of all your spaces) until interrupted.')
  .option('--json', 'one JSON object per line')
  .action(withApi(watchCommand));

const forward = program.command('forward').description('Reach ports inside a space from this machine.');
forward
  .command('port')
  .description('Listen on 127.0.0.1:<local> and tunnel each connection to <port> in the space.')
  .argument('<local>', 'local port (0 picks a free one)', portArgument(0))
  .argument('<space>', 'space name')
  .argument('<port>', 'port inside the space', portArgument(1))
  .action(withApi(forwardPortCommand));
forward
  .command('ssh <space>')
  .description('Join stdin/stdout to the space\'s SSH server, for ssh -o ProxyCommand="knot forward ssh %n" <space>.')
  .action(withApi(forwardSshCommand));

program
  .command('ssh-config')
  .description('Manage the knot entries in ~/.ssh/config.')
  .command('update')
  .description('Write a "Host knot.<space>" entry for each of your spaces with SSH.')
  .action(withApi(sshConfigUpdateCommand));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version are not failures; commander already printed the usage problem.
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (err instanceof CliError) {
    console.error(`knot: ${err.message}`);
    process.exitCode = err.exitCode;
  } else {
    console.error('knot: unexpected error:', err);
    process.exitCode = EXIT.failed;
  }
}
