import { ApiError, fieldMessages } from '../api/errors.js';

/**
 * A form's submit, the same everywhere: busy while the request runs, and a refusal from the server
 * shown next to the field it names, or above the buttons for anything else (so none is silent).
 */
export class FormSubmit {
  busy = $state(false);
  errors = $state<Record<string, string>>({});

  constructor(private readonly fields: readonly string[]) {}

  /** Runs `action` for a submit event; true when it went through. */
  async run(event: SubmitEvent, action: () => Promise<void>): Promise<boolean> {
    event.preventDefault();
    this.busy = true;
    this.errors = {};
    try {
      await action();
      return true;
    } catch (err) {
      this.errors = err instanceof ApiError ? fieldMessages(err, this.fields) : { form: String(err) };
      return false;
    } finally {
      this.busy = false;
    }
  }
}
