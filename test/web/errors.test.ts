import { describe, expect, it } from 'vitest';
import { fieldMessages, NETWORK_ERROR_MESSAGE, toApiError } from '../../web/src/lib/api/errors.js';

describe('API refusals as the UI shows them', () => {
  it('keeps the server sentence, the code and the field', () => {
    const error = toApiError({ graphQLErrors: [{ message: 'You already have a space named "mytest".', extensions: { code: 'NAME_TAKEN', field: 'name' } }] });
    expect(error).toMatchObject({ message: 'You already have a space named "mytest".', code: 'NAME_TAKEN', field: 'name' });
    expect(fieldMessages(error, ['name', 'altNames'])).toEqual({ name: 'You already have a space named "mytest".' });
  });

  it('sends a refusal about a field the form does not have to the form itself, so none is silent', () => {
    const error = toApiError({ graphQLErrors: [{ message: 'That template was not found.', extensions: { code: 'NOT_FOUND', field: 'templateId' } }] });
    expect(fieldMessages(error, ['name'])).toEqual({ form: 'That template was not found.' });
  });

  it('reads the YAML problems of a template with their documents and lines', () => {
    const problems = [
      { document: 'job', line: 3, column: 9, message: '"memory" must be a size like 512m or 2g' },
      { document: 'volumes', line: 2, message: 'unknown key "vol"' },
    ];
    const error = toApiError({ graphQLErrors: [{ message: 'job line 3: …', extensions: { code: 'BAD_USER_INPUT', field: 'job', line: 3, problems } }] });
    expect(error.problems).toEqual(problems);
  });

  it('points at the line even when only extensions.line is given', () => {
    const error = toApiError({ graphQLErrors: [{ message: 'volumes line 4: bad', extensions: { code: 'BAD_USER_INPUT', field: 'volumes', line: 4 } }] });
    expect(error.problems).toEqual([{ document: 'volumes', line: 4, message: '' }]);
  });

  it('says Knot is not answering when the request never got through', () => {
    expect(toApiError({ networkError: new TypeError('Failed to fetch') })).toMatchObject({ code: 'NETWORK', message: NETWORK_ERROR_MESSAGE });
  });
});
