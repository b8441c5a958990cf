import type { GraphiQLOptions } from 'graphql-yoga';
import { inlineScripts, PAGE_HEADERS, pagePolicy } from '../http/security-headers.js';

/**
 * GraphiQL from a pinned package (`@graphql-yoga/render-graphiql`), all of it inline in one page:
 * Yoga's default loads its scripts from a public CDN, which would run third-party code on Knot's
 * origin with the user's session (and fail offline). The bundle is large, so it is loaded on the
 * first GraphiQL request, and the rendered page (and its CSP, with the hash of its one script) is
 * kept. Monaco's workers start from blob: URLs, hence `worker-src blob:`.
 */
let page: Promise<{ html: string; policy: string }> | null = null;

export function renderLocalGraphiQL(options: GraphiQLOptions): Promise<string> {
  page ??= import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => {
    const html = renderGraphiQL(options);
    return { html, policy: pagePolicy(inlineScripts(html), { workers: 'blob:' }) };
  });
  return page.then((p) => p.html);
}

/** Headers for a GraphiQL page: the page headers and the policy of the rendered page. */
export async function graphiqlHeaders(): Promise<Record<string, string>> {
  const rendered = await page;
  return rendered ? { ...PAGE_HEADERS, 'content-security-policy': rendered.policy } : { ...PAGE_HEADERS };
}
