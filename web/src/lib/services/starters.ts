import { mutate, query, subscribe } from '../api/client.js';
import {
  CREATE_TEMPLATE_FROM_STARTER,
  PULL_TEMPLATE_IMAGE,
  STARTER_TEMPLATES,
  TEMPLATE_IMAGE_PULL,
  TEMPLATE_IMAGE_PULLS,
} from '../api/documents.js';
import type { ApiError } from '../api/errors.js';
import type { ResultOf } from '../../../../schema/client/graphql.js';

export type Starter = ResultOf<typeof STARTER_TEMPLATES>['starterTemplates'][number];
export type ImagePull = ResultOf<typeof PULL_TEMPLATE_IMAGE>['pullTemplateImage'];

/** The ready templates on offer (template managers only). */
export async function listStarters(): Promise<Starter[]> {
  return (await query(STARTER_TEMPLATES)).starterTemplates;
}

/** Adds a starter as an ordinary template; the server names it "… 2" when its name is taken. */
export async function addStarter(starterId: string): Promise<{ id: string; name: string }> {
  return (await mutate(CREATE_TEMPLATE_FROM_STARTER, { starterId })).createTemplateFromStarter;
}

/** Each template's image pull state, by template id (null: pulled at the first start). */
export async function listImagePulls(): Promise<Map<string, ImagePull | null>> {
  const { templates } = await query(TEMPLATE_IMAGE_PULLS);
  return new Map(templates.map((t) => [t.id, t.imagePull]));
}

export async function pullImage(templateId: string): Promise<ImagePull> {
  return (await mutate(PULL_TEMPLATE_IMAGE, { id: templateId })).pullTemplateImage;
}

/** Follows one template's pull live; returns the function that stops following. */
export function watchImagePull(templateId: string, onPull: (pull: ImagePull) => void, onError: (err: ApiError) => void): () => void {
  return subscribe(TEMPLATE_IMAGE_PULL, { templateId }, (data) => onPull(data.templateImagePull), onError);
}
