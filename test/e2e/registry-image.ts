/**
 * An image only in the local registry, under a name no other test uses, so a test can watch a
 * real pull without racing the pull tests over the shared one. Removed from the engine and the
 * registry afterwards.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { Runtime } from '../../server/src/runtime/index.js';
import { BUSYBOX_IMAGE, TEST_REGISTRY } from '../helpers/env.js';

const run = promisify(execFile);

export async function pushRegistryOnlyImage(runtime: Runtime): Promise<{ ref: string; remove(): Promise<void> }> {
  const repository = `knot-test/ui-pull-${randomBytes(4).toString('hex')}`;
  const ref = `${TEST_REGISTRY}/${repository}:latest`;
  await run('docker', ['tag', BUSYBOX_IMAGE, ref]);
  await run('docker', ['push', ref]);
  // Untag here, so starting a space has to pull it.
  await runtime.removeImage(ref);
  return {
    ref,
    async remove() {
      await runtime.removeImage(ref).catch(() => {});
      await deleteFromRegistry(repository);
    },
  };
}

/** Deletes a repository's `latest` manifest from the local registry (best effort). */
export async function deleteFromRegistry(repository: string): Promise<void> {
  const manifest = `http://${TEST_REGISTRY}/v2/${repository}/manifests/latest`;
  const head = await fetch(manifest, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
  }).catch(() => null);
  const digest = head?.headers.get('docker-content-digest');
  if (digest) await fetch(`http://${TEST_REGISTRY}/v2/${repository}/manifests/${digest}`, { method: 'DELETE' }).catch(() => {});
}
