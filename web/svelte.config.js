import adapter from '@sveltejs/adapter-static';

/**
 * A single-page app: the Knot server serves web/build and answers unknown paths with index.html,
 * so every route renders in the browser (ssr is off in the root layout).
 */
export default {
  kit: {
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', precompress: false, strict: true }),
  },
};
