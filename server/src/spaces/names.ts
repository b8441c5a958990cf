import { badInput, KnotError } from '../errors.js';

export const MAX_SPACE_NAME = 64;
export const MAX_ALT_NAMES = 20;

/** Space names become DNS labels (`user--space--port.domain`), hence the rules and the ban on "--". */
export function checkSpaceName(value: string, field = 'name'): string {
  const name = value.trim();
  if (!name) throw badInput(field, 'A space needs a name.');
  if (name.length > MAX_SPACE_NAME) throw badInput(field, `A space name can be at most ${MAX_SPACE_NAME} characters.`);
  if (!/^[a-zA-Z]/.test(name)) throw badInput(field, `"${name}" must start with a letter.`);
  if (!/^[a-zA-Z][a-zA-Z0-9-]*$/.test(name)) throw badInput(field, `"${name}" can only have letters, digits and "-".`);
  if (name.includes('--')) throw badInput(field, `"${name}" cannot contain "--"; it separates the parts of a space's web address.`);
  if (name.endsWith('-')) throw badInput(field, `"${name}" cannot end with "-".`);
  return name;
}

/** The main name plus additional names, all distinct from each other (case-insensitively). */
export function checkSpaceNames(name: string, altNames: readonly string[]): { name: string; altNames: string[] } {
  const main = checkSpaceName(name);
  if (altNames.length > MAX_ALT_NAMES) throw badInput('altNames', `A space can have at most ${MAX_ALT_NAMES} additional names.`);
  const alts = altNames.map((n) => checkSpaceName(n, 'altNames')).filter((n, i, all) => all.findIndex((m) => m.toLowerCase() === n.toLowerCase()) === i);
  if (alts.some((n) => n.toLowerCase() === main.toLowerCase())) {
    throw badInput('altNames', `The additional name "${main}" is the space's own name.`);
  }
  return { name: main, altNames: alts };
}

/** Every name of `taken` spaces that `wanted` would collide with, case-insensitively. */
export function findNameClash(
  wanted: readonly string[],
  taken: readonly { name: string; altNames: string[] }[],
): { wanted: string; owner: string } | null {
  for (const other of taken) {
    const used = new Set([other.name, ...other.altNames].map((n) => n.toLowerCase()));
    const hit = wanted.find((n) => used.has(n.toLowerCase()));
    if (hit) return { wanted: hit, owner: other.name };
  }
  return null;
}

export function nameTaken(clash: { wanted: string; owner: string }): KnotError {
  const message =
    clash.wanted.toLowerCase() === clash.owner.toLowerCase()
      ? `You already have a space named "${clash.owner}".`
      : `"${clash.wanted}" is already a name of your space "${clash.owner}".`;
  return new KnotError('NAME_TAKEN', message, { field: 'name' });
}
