/** The two moments a template is checked: when an admin saves it, and when a space starts. */
import { TemplateError, type TemplateDocument, type TemplateIssue } from './errors.js';
import { readJobSpec, type JobSpec } from './job-spec.js';
import { findVariableErrors, placeholderRender, renderTemplate, type TemplateVars } from './render.js';
import { readVolumesSpec } from './volumes-spec.js';
import { blankComments, YamlReader, type Render } from './yaml-reader.js';

export type TemplatePlatform = 'DOCKER' | 'MANUAL';

export interface TemplateSource {
  job: string;
  volumes: string;
}

export interface ValidateTemplateInput extends TemplateSource {
  platform: TemplatePlatform;
  /**
   * The admin variables (`.var.NAME`). Names alone are enough to refuse unknown ones; with their
   * values, fields built from them (e.g. `memory: ${{ .var.MEM }}`) are checked as they will render.
   */
  knownVars: ReadonlySet<string> | Readonly<Record<string, string>>;
}

export type ValidationResult = { ok: true } | { ok: false; errors: TemplateIssue[] };

export function validateTemplate(input: ValidateTemplateInput): ValidationResult {
  const values = input.knownVars instanceof Set ? {} : (input.knownVars as Readonly<Record<string, string>>);
  const names = input.knownVars instanceof Set ? (input.knownVars as ReadonlySet<string>) : new Set(Object.keys(values));
  const render = placeholderRender(values);

  const issues: TemplateIssue[] = [];
  for (const document of ['job', 'volumes'] as const) {
    const text = input[document];
    const reader = new YamlReader(document, text, render);
    if (input.platform === 'MANUAL') {
      // Manual spaces are whatever machine runs the agent; there is nothing for Knot to create.
      if (reader.parsed && !reader.isNull(reader.root)) {
        reader.fail(reader.root, `a manual template has no ${document === 'job' ? 'job' : 'volume definitions'}; leave it empty`);
      }
      issues.push(...reader.issues);
      continue;
    }
    for (const problem of findVariableErrors(blankComments(text), names)) issues.push({ document, ...problem });
    if (document === 'job') readJobSpec(reader);
    else readVolumesSpec(reader);
    // A malformed `${{` is found both by the text scan and while rendering; report it once.
    for (const issue of reader.issues) {
      if (!issues.some((i) => i.document === document && i.line === issue.line && i.message === issue.message)) issues.push(issue);
    }
  }
  return issues.length === 0 ? { ok: true } : { ok: false, errors: sortIssues(issues) };
}

export interface RenderedJob {
  job: JobSpec;
  /** Docker volume names to exist while the space runs (from the volume definitions). */
  volumes: string[];
}

/** At each start, with the current values (so a changed service password is used). */
export function renderJob(source: TemplateSource, vars: TemplateVars): RenderedJob {
  const render: Render = (text) => renderTemplate(text, vars);
  const jobReader = new YamlReader('job', source.job, render);
  const volumesReader = new YamlReader('volumes', source.volumes, render);
  const job = readJobSpec(jobReader);
  const volumes = readVolumesSpec(volumesReader);
  const issues = [...jobReader.issues, ...volumesReader.issues];
  if (issues.length > 0 || !job) throw new TemplateError(sortIssues(issues));
  return { job, volumes };
}

const ORDER: Record<TemplateDocument, number> = { job: 0, volumes: 1 };

function sortIssues(issues: TemplateIssue[]): TemplateIssue[] {
  return [...issues].sort(
    (a, b) => ORDER[a.document] - ORDER[b.document] || a.line - b.line || (a.column ?? 0) - (b.column ?? 0),
  );
}
