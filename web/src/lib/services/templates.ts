import { mutate, query } from '../api/client.js';
import { CREATE_TEMPLATE, DELETE_TEMPLATE, TEMPLATE, TEMPLATES, UPDATE_TEMPLATE } from '../api/documents.js';
import type { Template } from '../api/types.js';

export type TemplateInput = Omit<Template, 'id'>;

export async function listTemplates(): Promise<Template[]> {
  return (await query(TEMPLATES)).templates;
}

export async function getTemplate(id: string): Promise<Template> {
  return (await query(TEMPLATE, { id })).template;
}

/** Throws ApiError (with the YAML problems) so the form can show them on their lines. */
export async function saveTemplate(id: string | null, input: TemplateInput): Promise<string> {
  if (id) {
    await mutate(UPDATE_TEMPLATE, { id, input });
    return id;
  }
  return (await mutate(CREATE_TEMPLATE, { input })).createTemplate.id;
}

export function deleteTemplate(id: string) {
  return mutate(DELETE_TEMPLATE, { id });
}
