import { toasts } from '../state/toasts.svelte.js';

/**
 * Copies text. The async clipboard API exists only on secure origins (https or localhost); a
 * Knot on plain http elsewhere falls back to the old selection-based copy.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    if (!ok) throw new Error('copy refused');
    return true;
  } catch {
    toasts.error('The browser did not allow copying; select the text and copy it by hand.');
    return false;
  }
}
