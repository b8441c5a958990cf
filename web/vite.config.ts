import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// `npm run dev -w web` proxies the API and the space routes to a Knot server (PORT 3100 by default).
const target = process.env.KNOT_DEV_SERVER ?? 'http://127.0.0.1:3100';

export default defineConfig({
  plugins: [sveltekit()],
  server: {
    proxy: {
      '/graphql': { target, ws: true, changeOrigin: false },
      '^/spaces/[^/]+/': { target, ws: true, changeOrigin: false },
    },
  },
});
