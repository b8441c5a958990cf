import { createApp } from './app.js';

/** `npm start`: one process serving the API, the WebSockets and the web UI. */
const app = await createApp();
await app.start();

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app.services.log.info({ signal }, 'shutting down');
    app.stop().then(
      () => process.exit(0),
      (err) => {
        app.services.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
