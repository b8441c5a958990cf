import type { Plugin } from 'graphql-yoga';
import { isOwnOrigin } from '../auth/origin.js';

/**
 * A page of another site may send the browser to `/graphql` with a form (urlencoded or multipart
 * needs no CORS preflight). Its cookie is ignored already (http.ts), but `login` and `setup` need
 * none: a hidden form logged the visitor into the attacker's account (whatever they then saved
 * in Knot was the attacker's), or took a fresh install's admin account. So a request whose Origin
 * is another site's is refused before any operation runs, unless it carries a Bearer token: that
 * is a script's own credential, which a foreign page cannot make the browser send.
 */
export function useOwnOriginOnly(publicUrl: string): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      // A CORS preflight never carries the token it asks about; the request after it does.
      if (request.method === 'OPTIONS' || request.headers.get('authorization')) return;
      if (isOwnOrigin(request.headers.get('origin'), request.headers.get('host'), publicUrl)) return;
      const body = {
        errors: [{ message: "Requests from another site's page need an API token (Authorization: Bearer).", extensions: { code: 'FORBIDDEN' } }],
      };
      endResponse(new fetchAPI.Response(JSON.stringify(body), { status: 403, headers: { 'content-type': 'application/json; charset=utf-8' } }));
    },
  };
}
