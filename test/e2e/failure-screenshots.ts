import type { Page } from 'playwright-core';
import { afterEach } from 'vitest';
import { screenshot } from './browser.js';

/** Saves a screenshot of each page when a test fails, named after the test: the first thing to look at. */
export function screenshotsOnFailure(pages: () => (Page | undefined)[]): void {
  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    const slug = context.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
    let i = 0;
    for (const page of pages()) if (page && !page.isClosed()) await screenshot(page, `FAILED-${slug}-${i++}`).catch(() => {});
  });
}
