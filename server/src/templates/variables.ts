import { eq, sql } from 'drizzle-orm';
import { templates, variables } from '../../../schema/db/index.js';
import { recordAudit } from '../audit.js';
import { nameTakenOnRace } from '../auth/unique.js';
import type { Viewer } from '../auth/viewer.js';
import { KnotError, badInput, notFound } from '../errors.js';
import { isUuid, type TemplateDeps } from './store.js';

export type VariableRow = typeof variables.$inferSelect;

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_VALUE = 16 * 1024;

function checkName(name: string) {
  if (!NAME.test(name)) throw badInput('name', 'A variable name is letters, digits and "_", starting with a letter or "_", at most 64.');
  return name;
}
function checkValue(value: string) {
  if (value.length > MAX_VALUE) throw badInput('value', `A variable value can be at most ${MAX_VALUE} characters.`);
  return value;
}

export async function createVariable(deps: TemplateDeps, viewer: Viewer, input: { name: string; value: string; protected?: boolean | null }) {
  const name = checkName(input.name);
  const isProtected = input.protected ?? false;
  const value = checkValue(input.value);
  const [clash] = await deps.db.select({ id: variables.id }).from(variables).where(eq(variables.name, name));
  if (clash) throw new KnotError('NAME_TAKEN', `A variable named ${name} already exists.`, { field: 'name' });
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(variables)
      .values({ name, protected: isProtected, value: isProtected ? deps.box.seal(value) : value })
      .returning();
    await recordAudit(tx, viewer, { action: 'createVariable', objectType: 'variable', objectId: row!.id, details: { name, protected: isProtected } });
    return row!;
  }).catch(nameTakenOnRace('name', `A variable named ${name} already exists.`));
}

export async function updateVariable(
  deps: TemplateDeps,
  viewer: Viewer,
  id: string,
  input: { value?: string | null; protected?: boolean | null },
) {
  const current = await getVariable(deps, id);
  const isProtected = input.protected ?? current.protected;
  // Turning protection off would store the secret in the clear, where `variables` shows it: a
  // protected value is never read back, so it is replaced, not revealed.
  if (current.protected && !isProtected && input.value == null) {
    throw badInput('value', `To unprotect ${current.name}, give it a new value: a protected value is never shown again.`);
  }
  const plain = input.value != null ? checkValue(input.value) : current.protected ? deps.box.open(current.value) : current.value;
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(variables)
      .set({ protected: isProtected, value: isProtected ? deps.box.seal(plain) : plain, updatedAt: new Date() })
      .where(eq(variables.id, id))
      .returning();
    await recordAudit(tx, viewer, { action: 'updateVariable', objectType: 'variable', objectId: id, details: { name: current.name } });
    return row!;
  });
}

export async function deleteVariable(deps: TemplateDeps, viewer: Viewer, id: string) {
  const current = await getVariable(deps, id);
  // A template naming a missing variable would fail at every start: refuse instead.
  // Postgres regular expressions spell a word boundary \y (\b there is a backspace).
  const pattern = `\\.var\\.${current.name}\\y`;
  const users = await deps.db
    .select({ name: templates.name })
    .from(templates)
    .where(sql`${templates.job} ~ ${pattern} or ${templates.volumes} ~ ${pattern}`);
  if (users.length) {
    throw new KnotError('TEMPLATE_IN_USE', `The variable ${current.name} is used by the template${users.length > 1 ? 's' : ''} ${users.map((u) => `"${u.name}"`).join(', ')}.`);
  }
  await deps.db.transaction(async (tx) => {
    await tx.delete(variables).where(eq(variables.id, id));
    await recordAudit(tx, viewer, { action: 'deleteVariable', objectType: 'variable', objectId: id, details: { name: current.name } });
  });
}

async function getVariable(deps: TemplateDeps, id: string) {
  if (!isUuid(id)) throw notFound('That variable');
  const [row] = await deps.db.select().from(variables).where(eq(variables.id, id));
  if (!row) throw notFound('That variable');
  return row;
}
