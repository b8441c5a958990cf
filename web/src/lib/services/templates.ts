import { mutate, query } from '../api/client.js';
import { CREATE_TEMPLATE, DELETE_TEMPLATE, TEMPLATE, TEMPLATES, UPDATE_TEMPLATE } from '../api/documents.js';
import type { Template } from '../api/types.js';

/** What the form edits; `warnings` are the server's to say. */
export type TemplateInput = Omit<Template, 'id' | 'warnings'>;

export async function listTemplates(): Promise<Template[]> {
  return (await query(TEMPLATES)).templates;
}

export async function getTemplate(id: string): Promise<Template> {
  return (await query(TEMPLATE, { id })).template;
}

/**
 * Throws ApiError (with the YAML problems) so the form can show them on their lines. A template
 * is saved even when no group allows its size; the answer says so in `warnings`.
 */
export async function saveTemplate(id: string | null, input: TemplateInput): Promise<{ id: string; warnings: string[] }> {
  if (id) return (await mutate(UPDATE_TEMPLATE, { id, input })).updateTemplate;
  return (await mutate(CREATE_TEMPLATE, { input })).createTemplate;
}

/** Opens a template to exactly these groups ([]: everyone), leaving the rest of it as it is. */
export async function setTemplateGroups(id: string, groupIds: string[]): Promise<string[]> {
  return (await mutate(UPDATE_TEMPLATE, { id, input: { groupIds } })).updateTemplate.warnings;
}

export function deleteTemplate(id: string) {
  return mutate(DELETE_TEMPLATE, { id });
}
