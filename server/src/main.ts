import { createApp } from './app.js';

/** app.stop() bounds each of its steps; this is the net under a step that forgot to be bounded. */
const STOP_DEADLINE_MS = 10_000;

/** `npm start`: one process serving the API, the WebSockets and the web UI. */
const app = await createApp();
await app.start();

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app.services.log.info({ signal }, 'shutting down');
    setTimeout(() => {
      app.services.log.error({ deadlineMs: STOP_DEADLINE_MS }, 'shutdown did not finish in time; exiting anyway');
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    app.stop().then(
      () => process.exit(0),
      (err) => {
        app.services.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
