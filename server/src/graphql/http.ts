import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import { createYoga, maskError, type YogaServerInstance } from 'graphql-yoga';
import { clientAddress } from '../auth/client-address.js';
import { isOwnOrigin } from '../auth/origin.js';
import { viewerFromHeaders } from '../auth/viewer.js';
import type { Services } from '../services.js';
import type { Context } from './context.js';
import { useOwnOriginOnly } from './cross-site.js';
import { useHttpSubscriptionCap } from './http-subscription-cap.js';
import { graphiqlHeaders, renderLocalGraphiQL } from './graphiql.js';
import { useQueryLimits } from './query-limits.js';
import { useRequestErrorCodes } from './request-error-codes.js';
import { useSharedSubscriptionResults } from './shared-subscription-results.js';
import { useEndStreamsOnRevocation } from './stream-revocation.js';
import { schema } from './schema.js';

/** Context fields a WebSocket subscription brings in place of an HTTP request. */
export interface SocketContextSeed {
  socketViewer: Context['viewer'];
  socketAddress: string;
}

/**
 * The one Yoga instance: it serves HTTP (GET/POST, GraphiQL) and also builds the execution
 * arguments for graphql-ws, so both transports share one context factory and one plugin chain.
 */
export function createGraphQL(services: Services): YogaServerInstance<object, Context> {
  const pendingCookies = new WeakMap<Request, string[]>();

  return createYoga<object, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: { title: 'Knot GraphQL', subscriptionsProtocol: 'WS' },
    renderGraphiQL: renderLocalGraphiQL,
    landingPage: false,
    logging: false,
    maskedErrors: {
      maskError(error, message, isDev) {
        const masked = maskError(error, message, isDev);
        // Refusals (KnotError and Yoga's own) pass through untouched; only surprises are logged.
        if (masked !== error || !(error instanceof GraphQLError)) {
          services.log.error({ err: (error as { originalError?: unknown }).originalError ?? error }, 'unexpected error in a GraphQL operation');
        }
        return masked;
      },
    },
    context: async (initial): Promise<Context> => {
      const seed = initial as Partial<SocketContextSeed> & { request?: Request; req?: IncomingMessage };
      if ('socketViewer' in seed) {
        return { services, viewer: seed.socketViewer ?? null, credentialRejected: false, clientAddress: seed.socketAddress ?? 'unknown', setCookie: () => {} };
      }
      const request = seed.request!;
      const ownOrigin = isOwnOrigin(request.headers.get('origin'), request.headers.get('host'), services.config.url);
      const credentials = {
        authorization: request.headers.get('authorization'),
        // A cookie sent by another site's page (a form post, say) is ignored: no cross-site requests in the user's name.
        cookie: ownOrigin ? request.headers.get('cookie') : null,
      };
      const result = await viewerFromHeaders(services.viewers, credentials);
      return {
        services,
        recheckViewer: async () => {
          const now = await viewerFromHeaders(services.viewers, credentials);
          return now === 'invalid' ? null : now;
        },
        clientAddress: clientAddress(seed.req, services.config.trustProxy),
        viewer: result === 'invalid' ? null : result,
        credentialRejected: result === 'invalid',
        setCookie(cookie) {
          const list = pendingCookies.get(request) ?? [];
          list.push(cookie);
          pendingCookies.set(request, list);
        },
      };
    },
    plugins: [
      useOwnOriginOnly(services.config.url),
      ...useQueryLimits(),
      useHttpSubscriptionCap(),
      useRequestErrorCodes(),
      useSharedSubscriptionResults(),
      // Last, so it wraps the stream each subscriber finally gets.
      useEndStreamsOnRevocation(services),
      {
        async onResponse({ request, response }) {
          for (const cookie of pendingCookies.get(request) ?? []) response.headers.append('set-cookie', cookie);
          response.headers.set('x-content-type-options', 'nosniff');
          if (response.headers.get('content-type')?.startsWith('text/html')) {
            for (const [name, value] of Object.entries(await graphiqlHeaders())) response.headers.set(name, value);
          }
        },
      },
    ],
  });
}
