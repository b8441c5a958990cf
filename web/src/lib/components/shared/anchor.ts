/**
 * Floating panels (menus, the ports drop-down) live in the browser's top layer (the Popover
 * API), so no row or card can clip them, even rows that skip rendering while off screen
 * (content-visibility). This keeps one next to the button that opened it: below it, right
 * edges aligned, flipped above when there is no room below, always inside the window.
 */
const GAP = 4;
const MARGIN = 8;

export function place(panel: HTMLElement, trigger: HTMLElement): void {
  const anchor = trigger.getBoundingClientRect();
  const width = panel.offsetWidth;
  const height = panel.offsetHeight;
  const left = Math.min(Math.max(MARGIN, anchor.right - width), window.innerWidth - width - MARGIN);
  const below = anchor.bottom + GAP;
  const top = below + height > window.innerHeight - MARGIN && anchor.top - GAP - height > MARGIN ? anchor.top - GAP - height : below;
  panel.style.left = `${Math.max(MARGIN, left)}px`;
  panel.style.top = `${top}px`;
}

/** Shows `panel` in the top layer next to `trigger` and follows scrolling and resizing; returns the undo. */
export function float(panel: HTMLElement, trigger: HTMLElement): () => void {
  panel.showPopover();
  place(panel, trigger);
  const follow = () => place(panel, trigger);
  window.addEventListener('scroll', follow, true);
  window.addEventListener('resize', follow);
  return () => {
    window.removeEventListener('scroll', follow, true);
    window.removeEventListener('resize', follow);
    if (panel.isConnected && panel.matches(':popover-open')) panel.hidePopover();
  };
}
