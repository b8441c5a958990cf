/**
 * Images ready before the first start: saving a Docker template (or "Pull now") pulls its image in
 * the background, and the Templates page follows the pull live. The engine's pulls are shared
 * (runtime/shared-pulls.ts), so a space started meanwhile waits on this same pull.
 *
 * The state of a pull lives in the process that runs it; its progress travels to every replica in
 * the `templateImage` event (a percentage and a status line: nothing a template manager may not see).
 */
import { parseDocument } from 'yaml';
import type { Db } from '../db.js';
import type { Logger } from '../logger.js';
import type { PubSub, TemplateImageEvent } from '../pubsub.js';
import type { CryptoBox } from '../crypto-box.js';
import type { Runtime } from '../runtime/index.js';
import { redactSecrets } from './redact.js';
import { renderWith } from './render.js';
import { readVariables, type TemplateRow } from './store.js';

export type TemplateImagePull = TemplateImageEvent;

interface Deps {
  db: Db;
  box: CryptoBox;
  pubsub: PubSub;
  runtime: Runtime;
  log: Logger;
}

/** Progress is drawn as a bar: a publish per whole percent, at most five a second, is plenty. */
const PUBLISH_INTERVAL_MS = 200;

class DependsOnTheSpace extends Error {}

/**
 * The image a template's spaces will run, when it is known before any space exists: admin
 * variables are filled in; an image naming the space or its user is not (null).
 */
export function imageAhead(job: string, varValues: Readonly<Record<string, string>>): string | null {
  const image = parseDocument(job).get('image');
  if (typeof image !== 'string' || !image.trim()) return null;
  try {
    return renderWith(image.trim(), (path) => {
      const value = path.startsWith('var.') ? varValues[path.slice(4)] : undefined;
      if (value === undefined) throw new DependsOnTheSpace();
      return value;
    });
  } catch {
    return null;
  }
}

export class TemplateImagePulls {
  /** The latest pull of each template's image that this process ran. */
  private readonly latest = new Map<string, TemplateImagePull>();

  constructor(private readonly deps: Deps) {}

  /**
   * Where a template's image stands now: this process's pull of it if one is running, otherwise
   * whether the engine has it (and how the last pull ended, if it failed).
   */
  async state(template: TemplateRow): Promise<TemplateImagePull> {
    const image = await this.imageOf(template);
    const known = this.latest.get(template.id);
    if (known && known.image === image && known.pulling) return known;
    const present = image !== null && (await this.deps.runtime.hasImage(image));
    if (known && known.image === image && !present && known.error) return known;
    return blank(template.id, image, present);
  }

  /** Starts pulling a Docker template's image unless the engine has it; resolves with the first state. */
  async pull(template: TemplateRow): Promise<TemplateImagePull> {
    const current = await this.state(template);
    if (template.platform !== 'DOCKER' || current.image === null || current.present || current.pulling) return current;
    const image = current.image;
    const { secrets } = await readVariables(this.deps);
    let lastPublish = 0;
    const update = (change: Partial<TemplateImagePull>, force = false) => {
      const next = { ...this.latest.get(template.id)!, ...change };
      this.latest.set(template.id, next);
      if (!force && Date.now() - lastPublish < PUBLISH_INTERVAL_MS) return;
      lastPublish = Date.now();
      this.publish(next);
    };
    const started = { ...blank(template.id, image, false), pulling: true, status: `Pulling ${image}` };
    this.latest.set(template.id, started);
    this.publish(started);
    this.deps.runtime
      .pullImage(image, (percent, status) => update({ percent: Math.floor(percent), status }, Math.floor(percent) >= 100))
      .then(
        () => update({ pulling: false, present: true, percent: 100, status: `Pulled ${image}` }, true),
        (err: unknown) => {
          const message = redactSecrets(err instanceof Error ? err.message : String(err), secrets);
          this.deps.log.warn({ templateId: template.id, err: message }, 'pulling a template image failed');
          update({ pulling: false, error: message, status: 'Pull failed' }, true);
        },
      );
    return started;
  }

  /** Starts a pull after a save, never failing the save: the admin sees how it went on the page. */
  pullAfterSave(template: TemplateRow): void {
    this.pull(template).catch((err: unknown) => this.deps.log.warn({ err, templateId: template.id }, 'could not start pulling a template image'));
  }

  private async imageOf(template: TemplateRow): Promise<string | null> {
    if (template.platform !== 'DOCKER') return null;
    return imageAhead(template.job, (await readVariables(this.deps)).values);
  }

  private publish(state: TemplateImagePull): void {
    this.deps.pubsub.publish('templateImage', state).catch((err: unknown) => this.deps.log.warn({ err }, 'could not publish pull progress'));
  }
}

function blank(templateId: string, image: string | null, present: boolean): TemplateImagePull {
  return { templateId, image, present, pulling: false, percent: present ? 100 : 0, status: present ? 'On the engine' : '', error: null };
}
