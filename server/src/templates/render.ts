/**
 * `${{ .path }}` variables. Rendering is done per YAML string value (see yaml-reader.ts), never on
 * the raw template text, so a value can't add keys or break quoting whatever characters it holds.
 * A rendered value is never rescanned: a password containing `${{ .user.email }}` stays literal.
 */

export interface TemplateVars {
  space: { id: string; name: string };
  template: { id: string; name: string };
  user: {
    id: string;
    username: string;
    email: string;
    timezone: string;
    service_password: string;
  };
  server: { url: string; agent_endpoint: string; wildcard_domain: string };
  /** Admin-managed template variables, by name. */
  var: Readonly<Record<string, string>>;
}

export interface VariableProblem {
  line: number;
  column: number;
  message: string;
}

/** Raised while rendering a value; callers that know the YAML node attach the line. */
export class RenderError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'RenderError';
  }
}

const BUILTIN_PATHS = [
  'space.id',
  'space.name',
  'template.id',
  'template.name',
  'user.id',
  'user.username',
  'user.email',
  'user.timezone',
  'user.service_password',
  'server.url',
  'server.agent_endpoint',
  'server.wildcard_domain',
] as const;
const BUILTINS = new Set<string>(BUILTIN_PATHS);
const PATH = /^\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)$/;
const VAR_NAME = /^[A-Za-z0-9_]+$/;

type Expression =
  | { kind: 'path'; start: number; end: number; path: string }
  | { kind: 'malformed'; start: number; end: number; message: string };

/** Every `${{` in text. `}}` must close it on the same line, so a typo can't swallow the file. */
function* expressions(text: string): Generator<Expression> {
  let from = 0;
  for (;;) {
    const start = text.indexOf('${{', from);
    if (start < 0) return;
    const close = text.indexOf('}}', start + 3);
    const newline = text.indexOf('\n', start);
    if (close < 0 || (newline >= 0 && newline < close)) {
      const end = newline < 0 ? text.length : newline;
      yield { kind: 'malformed', start, end, message: '"${{" is not closed with "}}"' };
      from = end;
      continue;
    }
    const end = close + 2;
    const inner = text.slice(start + 3, close).trim();
    const match = PATH.exec(inner);
    if (inner === '') yield { kind: 'malformed', start, end, message: 'empty "${{ }}"; expected a variable like ${{ .user.username }}' };
    else if (!match) yield { kind: 'malformed', start, end, message: `"${inner}" is not a variable; expected a path like .user.username` };
    else yield { kind: 'path', start, end, path: match[1]! };
    from = end;
  }
}

/** Why a path can't be resolved, or undefined when it names a variable that exists. */
function unknownReason(path: string, hasVar: (name: string) => boolean): string | undefined {
  if (BUILTINS.has(path)) return undefined;
  const [head, ...rest] = path.split('.');
  if (head === 'var') {
    const name = rest.join('.');
    if (rest.length !== 1 || !VAR_NAME.test(name)) return `".${path}" is not a variable name; expected .var.NAME`;
    return hasVar(name) ? undefined : `unknown variable ".${path}": no template variable named "${name}"`;
  }
  const siblings = BUILTIN_PATHS.filter((p) => p.startsWith(`${head}.`));
  const hint = siblings.length > 0 ? siblings.map((p) => `.${p}`).join(', ') : 'see the template variables list';
  return `unknown variable ".${path}" (known: ${hint})`;
}

function lookup(path: string, vars: TemplateVars): string | undefined {
  if (BUILTINS.has(path)) {
    const [group, key] = path.split('.') as [keyof TemplateVars, string];
    return (vars[group] as Record<string, string>)[key];
  }
  const name = path.slice('var.'.length);
  return path.startsWith('var.') && Object.hasOwn(vars.var, name) ? vars.var[name] : undefined;
}

/**
 * Replaces every `${{ .path }}` in one string value. Throws RenderError for an unknown variable
 * or a malformed expression: save-time validation should have refused those, so at start they
 * mean something changed since (e.g. an admin variable was deleted).
 */
export function renderTemplate(text: string, vars: TemplateVars): string {
  return renderWith(text, (path, start) => {
    const value = lookup(path, vars);
    if (value === undefined) {
      throw new RenderError(unknownReason(path, (n) => Object.hasOwn(vars.var, n)) ?? `no value for ".${path}"`, start);
    }
    return value;
  });
}

/** Shared by renderTemplate and save-time validation (which renders with placeholders). */
export function renderWith(text: string, valueOf: (path: string, offset: number) => string): string {
  let out = '';
  let last = 0;
  for (const expr of expressions(text)) {
    if (expr.kind === 'malformed') throw new RenderError(expr.message, expr.start);
    out += text.slice(last, expr.start) + valueOf(expr.path, expr.start);
    last = expr.end;
  }
  return out + text.slice(last);
}

/** Save-time check of raw template text: unknown variables and malformed `${{`, with positions. */
export function findVariableErrors(text: string, knownVarNames: ReadonlySet<string>): VariableProblem[] {
  const problems: VariableProblem[] = [];
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const position = (offset: number) => {
    let line = lineStarts.length - 1;
    while (lineStarts[line]! > offset) line--;
    return { line: line + 1, column: offset - lineStarts[line]! + 1 };
  };
  for (const expr of expressions(text)) {
    const message = expr.kind === 'malformed' ? expr.message : unknownReason(expr.path, (n) => knownVarNames.has(n));
    if (message !== undefined) problems.push({ ...position(expr.start), message });
  }
  return problems;
}

/** Plausible values used to validate a template at save time, before any space exists. */
export function placeholderVars(varValues: Readonly<Record<string, string>>): TemplateVars {
  const uuid = '00000000-0000-4000-8000-000000000000';
  return {
    space: { id: uuid, name: 'space' },
    template: { id: uuid, name: 'template' },
    user: { id: uuid, username: 'user', email: 'user@example.com', timezone: 'UTC', service_password: 'password' },
    server: { url: 'https://knot.example.com', agent_endpoint: 'knot.example.com:3000', wildcard_domain: '*.knot.example.com' },
    var: varValues,
  };
}

/**
 * Renders with placeholderVars, and any unknown variable as "value": save-time validation
 * reports unknown variables separately and still wants to check the rest of the template.
 */
export function placeholderRender(varValues: Readonly<Record<string, string>>): (text: string) => string {
  const vars = placeholderVars(varValues);
  return (text) => renderWith(text, (path) => lookup(path, vars) ?? 'value');
}
