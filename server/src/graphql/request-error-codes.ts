import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * graphql-js refuses bad variable values ("Int cannot represent…", a missing required variable)
 * with errors that carry no code. Clients branch on `extensions.code`, so those get
 * BAD_USER_INPUT. Only request errors are touched: a result without `data`, where execution never
 * started, so a resolver's error keeps its own code (or is masked).
 */
function withCodes(result: ExecutionResult): ExecutionResult | null {
  if ('data' in result || !result.errors?.some((e) => !e.extensions?.code)) return null;
  return {
    ...result,
    errors: result.errors.map((error) =>
      error.extensions?.code
        ? error
        : new GraphQLError(error.message, {
            nodes: error.nodes,
            source: error.source,
            positions: error.positions,
            path: error.path,
            originalError: error.originalError,
            extensions: { ...error.extensions, code: 'BAD_USER_INPUT' },
          }),
    ),
  };
}

const isResult = (value: unknown): value is ExecutionResult => !!value && typeof value === 'object' && !(Symbol.asyncIterator in value);

export function useRequestErrorCodes(): Plugin {
  return {
    onExecute: () => ({
      onExecuteDone: ({ result, setResult }) => {
        const coded = isResult(result) ? withCodes(result) : null;
        if (coded) setResult(coded);
      },
    }),
    onSubscribe: () => ({
      onSubscribeResult: ({ result, setResult }) => {
        const coded = isResult(result) ? withCodes(result) : null;
        if (coded) setResult(coded);
      },
    }),
  };
}
