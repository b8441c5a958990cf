import { sql } from 'drizzle-orm';
import { templates } from '../../../schema/db/index.js';
import type { Viewer } from '../auth/viewer.js';
import { KnotError, notFound } from '../errors.js';
import { starterTemplates } from './starters.js';
import { createTemplate, type TemplateDeps, type TemplateRow } from './store.js';

/**
 * One click on a starter card: an ordinary template made from the starter. Clicking twice makes a
 * second one ("Linux shell 2"), as a copy would, rather than refusing a name the admin never typed.
 */
export async function createTemplateFromStarter(
  deps: TemplateDeps & { config: { starterImages: Partial<Record<string, string>> } },
  viewer: Viewer,
  starterId: string,
): Promise<TemplateRow> {
  const starter = starterTemplates(deps.config.starterImages).find((s) => s.id === starterId);
  if (!starter) throw notFound('That starter template');
  // Two clicks at once can both find one name free; the loser takes the next number.
  for (let attempt = 1; ; attempt++) {
    const name = await freeName(deps, starter.template.name);
    try {
      return await createTemplate(deps, viewer, { ...starter.template, name });
    } catch (err) {
      if (!(err instanceof KnotError && err.extensions.code === 'NAME_TAKEN') || attempt >= 5) throw err;
    }
  }
}

async function freeName(deps: TemplateDeps, base: string): Promise<string> {
  const rows = await deps.db
    .select({ name: templates.name })
    .from(templates)
    .where(sql`lower(${templates.name}) like lower(${base}) || '%'`);
  const taken = new Set(rows.map((r) => r.name.toLowerCase()));
  if (!taken.has(base.toLowerCase())) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base} ${n}`.toLowerCase())) return `${base} ${n}`;
}
