/**
 * The volume definitions YAML, knot's shape:
 *
 *   volumes:
 *     data:
 *     home_${{ .space.id }}:
 *
 * Each name is a Docker volume created when the space starts and removed with the space. A
 * definition's value may be empty or a mapping; its contents are accepted but not used yet.
 */
import { isMap } from 'yaml';
import { VOLUME_NAME } from './job-fields.js';
import { identityRender, YamlReader, type Render } from './yaml-reader.js';

/** Throws TemplateError; returns the rendered volume names in the order written. */
export function parseVolumesSpec(text: string, render: Render = identityRender): string[] {
  const reader = new YamlReader('volumes', text, render);
  const names = readVolumesSpec(reader);
  reader.throwIfFailed();
  return names;
}

export function readVolumesSpec(r: YamlReader): string[] {
  if (!r.parsed || r.isNull(r.root)) return [];
  const root = r.map(r.root, 'the volume definitions');
  if (!root) return [];

  const names: string[] = [];
  for (const { key, keyNode, value } of r.entries(root, 'the volume definitions')) {
    if (key !== 'volumes') {
      r.fail(keyNode, `unknown key "${key}"; volume definitions go under "volumes:"`);
      continue;
    }
    if (r.isNull(value)) continue;
    const volumes = r.map(value, '"volumes"');
    for (const volume of volumes ? r.entries(volumes, '"volumes"') : []) {
      if (!r.isNull(volume.value) && !isMap(volume.value)) {
        r.fail(volume.value, `volume "${volume.key}" must be empty or a mapping of options`);
      }
      const name = r.render(volume.keyNode, volume.key);
      if (name === undefined) continue;
      // Checked after rendering: the variables decide the real name.
      if (!VOLUME_NAME.test(name)) {
        r.fail(volume.keyNode, `volume name "${name}" must start with a letter or digit and contain only letters, digits, "_", "." and "-"`);
      } else if (names.includes(name)) {
        r.fail(volume.keyNode, `volume "${name}" is defined twice`);
      } else {
        names.push(name);
      }
    }
  }
  return names;
}
