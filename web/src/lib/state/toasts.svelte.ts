export interface Toast {
  id: number;
  kind: 'error' | 'success' | 'info';
  message: string;
}

/** Short messages in the corner: errors stay until read (or 10 s), confirmations leave sooner. */
class Toasts {
  #items = $state<Toast[]>([]);
  #next = 1;

  get items(): readonly Toast[] {
    return this.#items;
  }

  show(kind: Toast['kind'], message: string) {
    // The same refusal twice in a row (double click) is one toast.
    if (this.#items.some((t) => t.kind === kind && t.message === message)) return;
    const id = this.#next++;
    this.#items.push({ id, kind, message });
    setTimeout(() => this.dismiss(id), kind === 'error' ? 10_000 : 4_000);
  }

  error(message: string) {
    this.show('error', message);
  }

  success(message: string) {
    this.show('success', message);
  }

  dismiss(id: number) {
    this.#items = this.#items.filter((t) => t.id !== id);
  }
}

export const toasts = new Toasts();
