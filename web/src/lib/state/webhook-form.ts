/** What the webhook form edits. Pure, so test/web can check it. */
export interface WebhookFormValues {
  url: string;
  /** Empty when editing: the secret is write-only, and an empty field keeps the current one. */
  secret: string;
  events: string[];
  active: boolean;
}

export interface WebhookChanges {
  url?: string;
  secret?: string;
  events?: string[];
  active?: boolean;
}

/**
 * Only what changed goes to updateWebhook: an unchanged URL is not checked again, and an empty
 * secret field keeps the current secret (it is write-only, so the form never holds it).
 */
export function webhookChanges(before: Omit<WebhookFormValues, 'secret'>, after: WebhookFormValues): WebhookChanges {
  const sameEvents = before.events.length === after.events.length && after.events.every((e) => before.events.includes(e));
  return {
    ...(after.url !== before.url ? { url: after.url } : {}),
    ...(after.secret ? { secret: after.secret } : {}),
    ...(sameEvents ? {} : { events: after.events }),
    ...(after.active !== before.active ? { active: after.active } : {}),
  };
}
