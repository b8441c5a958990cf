/**
 * Refusals from the API, reduced to what the UI shows: a sentence, the code it branches on, the
 * form field it belongs to and, for templates, the YAML lines. Pure, so test/web can check it.
 */

export interface TemplateProblem {
  document: 'job' | 'volumes';
  line: number;
  column?: number;
  message: string;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly field: string | null = null,
    readonly problems: TemplateProblem[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The part of urql's CombinedError (or a raw GraphQL response) we read. */
export interface ErrorLike {
  networkError?: Error | undefined;
  graphQLErrors?: readonly { message: string; extensions?: Record<string, unknown> | undefined }[];
}

export const NETWORK_ERROR_MESSAGE = 'Knot is not answering. Check your connection; the page retries by itself.';

export function toApiError(error: ErrorLike): ApiError {
  const first = error.graphQLErrors?.[0];
  if (first) {
    const ext = first.extensions ?? {};
    const code = typeof ext.code === 'string' ? ext.code : 'INTERNAL_SERVER_ERROR';
    const field = typeof ext.field === 'string' ? ext.field : null;
    return new ApiError(first.message, code, field, readProblems(ext));
  }
  if (error.networkError) return new ApiError(NETWORK_ERROR_MESSAGE, 'NETWORK');
  return new ApiError('Something went wrong.', 'UNKNOWN');
}

function readProblems(ext: Record<string, unknown>): TemplateProblem[] {
  if (Array.isArray(ext.problems)) {
    return ext.problems.filter(
      (p): p is TemplateProblem => !!p && typeof p === 'object' && typeof (p as TemplateProblem).line === 'number',
    );
  }
  // A single line without the list (older servers, or one problem): still point at it.
  if (typeof ext.line === 'number' && (ext.field === 'job' || ext.field === 'volumes')) {
    return [{ document: ext.field, line: ext.line, message: '' }];
  }
  return [];
}

/**
 * Which message to show next to which form field. A field the form does not have goes to `form`
 * (shown above the buttons), so no refusal is ever silent.
 */
export function fieldMessages(error: ApiError, fields: readonly string[]): Record<string, string> {
  if (error.field && fields.includes(error.field)) return { [error.field]: error.message };
  return { form: error.message };
}
