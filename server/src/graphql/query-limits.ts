/**
 * Limits a GraphQL document must stay within before anything runs, so one request cannot turn into
 * thousands of resolver calls (3,000 aliased `login`s) or pin the CPU in the parser. GraphQL Armor
 * checks them at parse and validation, which graphql-ws subscriptions go through as well (they use
 * Yoga's parse and validate). The web UI's and the CLI's heaviest operations use depth 5, no
 * aliases, about 70 tokens and a cost of about 110 (test/security/query-limits.test.ts checks
 * every UI document against these numbers).
 */
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export const QUERY_LIMITS = {
  /** Nesting of selections; introspection (GraphiQL) is not counted. */
  depth: 8,
  /** Aliased fields in one operation, fragments included. */
  aliases: 15,
  /** Lexer tokens in the document; GraphiQL's introspection query is about 300. */
  tokens: 2000,
  /** GraphQL Armor's cost: 2 per object field, 1 per scalar, ×1.5 per level. */
  cost: 5000,
  directives: 50,
} as const;

/**
 * Armor's own errors carry no code and read "Syntax Error: …"; clients branch on
 * `extensions.code`, so a refusal says QUERY_TOO_COMPLEX and which limit it crossed.
 */
function refuse(ctx: ValidationContext | null, error: GraphQLError): void {
  const coded = new GraphQLError(`The query is too complex: ${error.message.replace(/^Syntax Error: /, '')}`, {
    nodes: error.nodes,
    extensions: { code: 'QUERY_TOO_COMPLEX' },
  });
  // The token limit is checked while parsing, with no validation context: the throw ends the parse.
  if (ctx) ctx.reportError(coded);
  else throw coded;
}

const onRefusal = { exposeLimits: true, propagateOnRejection: false, onReject: [refuse] };

export function useQueryLimits(): Plugin[] {
  return [
    maxTokensPlugin({ n: QUERY_LIMITS.tokens, ...onRefusal }),
    maxDepthPlugin({ n: QUERY_LIMITS.depth, ...onRefusal }),
    maxAliasesPlugin({ n: QUERY_LIMITS.aliases, ...onRefusal }),
    costLimitPlugin({ maxCost: QUERY_LIMITS.cost, ...onRefusal }),
    maxDirectivesPlugin({ n: QUERY_LIMITS.directives, ...onRefusal }),
  ] as Plugin[];
}
