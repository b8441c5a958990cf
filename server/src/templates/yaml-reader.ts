/**
 * Reads a template's YAML into typed values while keeping track of where each value came from,
 * so every refusal names the line the admin typed. Variables are rendered value by value as the
 * reader pulls strings out of the parsed document: the YAML structure is fixed before any value
 * is substituted, which is what makes rendering injection-proof.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, Parser, parseDocument } from 'yaml';
import type { Document, Node, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { TemplateError, type TemplateDocument, type TemplateIssue } from './errors.js';
import { RenderError } from './render.js';

/** Renders the variables in one string value; may throw RenderError. */
export type Render = (text: string) => string;

export const identityRender: Render = (text) => text;

export class YamlReader {
  readonly issues: TemplateIssue[] = [];
  readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();

  constructor(
    readonly document: TemplateDocument,
    text: string,
    private readonly renderValue: Render,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false });
    const openers = this.doc.errors.length ? unclosedOpeners(text) : [];
    for (const error of this.doc.errors) {
      // The parser notices a missing `]` or quote where it gives up, often a line or more later;
      // the mistake is the opener the admin typed, so that is where the problem is marked.
      const opener = /flow|quote/i.test(error.message) ? openers.filter((o) => o.offset < error.pos[0]).at(-1) : undefined;
      const { line, col: column } = this.lines.linePos(opener?.offset ?? error.pos[0]);
      const message = opener ? `${opener.what} is never closed (${error.message})` : error.message;
      this.issues.push({ document, line, column, message: `YAML syntax: ${message}` });
    }
  }

  get parsed(): boolean {
    return this.doc.errors.length === 0;
  }

  /** The document's top node, or null when it is empty or only comments. */
  get root(): Node | null {
    return this.resolve(this.doc.contents);
  }

  fail(node: unknown, message: string, offsetInNode = 0): void {
    const { line, col } = this.position(node, offsetInNode);
    this.issues.push({ document: this.document, line, column: col, message });
  }

  /** The 1-based line a node starts on. */
  lineOf(node: unknown): number {
    return this.position(node).line;
  }

  private position(node: unknown, offsetInNode = 0) {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return this.lines.linePos((range?.[0] ?? 0) + offsetInNode);
  }

  throwIfFailed(): void {
    if (this.issues.length === 0) return;
    throw new TemplateError([...this.issues].sort((a, b) => a.line - b.line || (a.column ?? 0) - (b.column ?? 0)));
  }

  /** Follows an alias to its anchor; unresolvable aliases are reported, not thrown. */
  resolve(node: unknown): Node | null {
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target) this.fail(node, `alias "*${node.source}" has no matching anchor`);
      return (target as Node | undefined) ?? null;
    }
    return (node as Node | null | undefined) ?? null;
  }

  isNull(node: Node | null): boolean {
    return node === null || (isScalar(node) && node.value === null);
  }

  map(node: Node | null, what: string): YAMLMap<unknown, unknown> | undefined {
    if (isMap(node)) return node;
    this.fail(node, `${what} must be a mapping of keys to values`);
    return undefined;
  }

  seq(node: Node | null, what: string): YAMLSeq<unknown> | undefined {
    if (isSeq(node)) return node;
    this.fail(node, `${what} must be a list`);
    return undefined;
  }

  /** A scalar's text before rendering; numbers keep their source spelling (1.10 stays "1.10"). */
  rawString(node: Node | null, what: string): string | undefined {
    if (isScalar(node)) {
      if (typeof node.value === 'string') return node.value;
      if (typeof node.value === 'number' || typeof node.value === 'bigint') return sourceText(node);
    }
    this.fail(node, `${what} must be text`);
    return undefined;
  }

  /** Renders a piece of a scalar's text, attributing render failures to that scalar. */
  render(node: Node | null, text: string): string | undefined {
    try {
      return this.renderValue(text);
    } catch (error) {
      if (!(error instanceof RenderError)) throw error;
      // Quoted and block scalars don't map offsets one-to-one onto the source, so only plain
      // scalars get a column inside the value.
      const exact = isScalar(node) && node.type === 'PLAIN' && text === node.value;
      this.fail(node, error.message, exact ? error.offset : 0);
      return undefined;
    }
  }

  string(node: Node | null, what: string): string | undefined {
    const raw = this.rawString(node, what);
    return raw === undefined ? undefined : this.render(node, raw);
  }

  /** A list of strings; a single string is accepted as a one-item list when allowSingle. */
  strings(node: Node | null, what: string, allowSingle = false): Array<{ node: Node | null; value: string }> {
    if (allowSingle && isScalar(node)) {
      const value = this.string(node, what);
      return value === undefined ? [] : [{ node, value }];
    }
    const seq = this.seq(node, what);
    const out: Array<{ node: Node | null; value: string }> = [];
    for (const item of seq?.items ?? []) {
      const itemNode = this.resolve(item);
      const value = this.string(itemNode, `each entry of ${what}`);
      if (value !== undefined) out.push({ node: itemNode, value });
    }
    return out;
  }

  /** Map entries whose keys are plain (unrendered) text; non-text keys are reported. */
  entries(map: YAMLMap<unknown, unknown>, what: string): Array<{ pair: Pair<unknown, unknown>; key: string; keyNode: Node | null; value: Node | null }> {
    const out = [];
    for (const pair of map.items) {
      const keyNode = this.resolve(pair.key);
      const key = this.rawString(keyNode, `each key of ${what}`);
      if (key !== undefined) out.push({ pair, key, keyNode, value: this.resolve(pair.value) });
    }
    return out;
  }
}

function sourceText(node: Scalar): string {
  return typeof node.source === 'string' && node.source !== '' ? node.source : String(node.value);
}

/**
 * The text with every YAML comment blanked out (same length, same lines), so that variable
 * checks by position ignore a commented-out `${{ .old }}`, as rendering does.
 */
export function blankComments(text: string): string {
  const chars = text.split('');
  const visit = (token: unknown): void => {
    if (Array.isArray(token)) {
      token.forEach(visit);
    } else if (token !== null && typeof token === 'object') {
      const t = token as { type?: unknown; offset?: unknown; source?: unknown };
      if (t.type === 'comment' && typeof t.offset === 'number' && typeof t.source === 'string') {
        for (let i = t.offset; i < t.offset + t.source.length; i++) chars[i] = ' ';
      }
      for (const value of Object.values(token)) if (typeof value === 'object') visit(value);
    }
  };
  for (const token of new Parser().parse(text)) visit(token);
  return chars.join('');
}

interface Opener {
  offset: number;
  /** How a person would name it: `the "[" here`. */
  what: string;
}

const CLOSERS: Record<string, string> = { '[': ']', '{': '}' };

/** Flow collections and quoted scalars that start in the text and never end, in source order. */
function unclosedOpeners(text: string): Opener[] {
  const found: Opener[] = [];
  const visit = (token: unknown): void => {
    if (Array.isArray(token)) return token.forEach(visit);
    if (token === null || typeof token !== 'object') return;
    const t = token as { type?: string; offset?: number; source?: string; start?: { source?: string }; end?: Array<{ source?: string }> };
    if (t.type === 'flow-collection' && typeof t.offset === 'number') {
      const open = t.start?.source ?? '';
      if (!t.end?.some((e) => e.source === CLOSERS[open])) found.push({ offset: t.offset, what: `the "${open}" here` });
    } else if ((t.type === 'double-quoted-scalar' || t.type === 'single-quoted-scalar') && typeof t.offset === 'number') {
      const quote = t.type === 'double-quoted-scalar' ? '"' : "'";
      const body = (t.source ?? '').trimEnd();
      if (body.length < 2 || !body.endsWith(quote)) found.push({ offset: t.offset, what: `the ${quote} quote here` });
    }
    for (const value of Object.values(token)) if (typeof value === 'object') visit(value);
  };
  for (const token of new Parser().parse(text)) visit(token);
  return found.sort((a, b) => a.offset - b.offset);
}
