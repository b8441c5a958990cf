/** Which of a template's two YAML texts a problem was found in. */
export type TemplateDocument = 'job' | 'volumes';

export interface TemplateIssue {
  document: TemplateDocument;
  /** 1-based line in the text the admin typed. */
  line: number;
  /** 1-based column, when the problem has a precise position. */
  column?: number;
  /** What is wrong, without the position (see formatIssue for the full sentence). */
  message: string;
}

/** `job line 3: "memory" must be a size like 512m or 2g` — what a person reads in the UI. */
export function formatIssue(issue: TemplateIssue): string {
  return `${issue.document} line ${issue.line}: ${issue.message}`;
}

/** A template that cannot be saved or started; carries every problem found, not just the first. */
export class TemplateError extends Error {
  readonly issues: TemplateIssue[];

  constructor(issues: TemplateIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'TemplateError';
    this.issues = issues;
  }
}
