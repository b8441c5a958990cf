/**
 * The Knot agent: runs inside a space (or on a manual space's machine) and connects it to the
 * server. Configured by environment; see agent/src/config.ts and README "Templates".
 */
import { AgentClient, AGENT_NAME } from './client.js';
import { ConfigError, loadAgentConfig, type AgentConfig } from './config.js';
import { createLog } from './log.js';
import { PtyLauncher, detectPtyMethod } from './pty.js';

const log = createLog(process.env.KNOT_AGENT_DEBUG === '1', process.env.KNOT_AGENT_LOG_FILE?.trim() || undefined);

let config;
try {
  config = loadAgentConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  log.warn(`cannot start: ${err.message}`);
  // Not process.exit(): the line may be on its way to KNOT_AGENT_LOG_FILE; Node exits once it is written.
  process.exitCode = 2;
}
if (config) run(config);

function run(config: AgentConfig) {
  // Shells started by the agent have no business with its credential.
  delete process.env.KNOT_AGENT_TOKEN;

  const launcher = new PtyLauncher(detectPtyMethod(config.ptyMethod));
  const client = new AgentClient(config, launcher, log);
  log.info(`${AGENT_NAME} for space ${config.spaceId}: shells through ${launcher.method}, reporting every ${config.reportIntervalMs} ms`);
  client.start();

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      client.stop();
      launcher.dispose();
      process.exit(0);
    });
  }
}
