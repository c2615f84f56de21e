/** True when a key press belongs to a text field (so app shortcuts must not act on it). */
export function isTyping(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  if (!target) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

export const SHORTCUTS: { keys: string; action: string }[] = [
  { keys: '1 – 9', action: 'Label the selection with class 1–9 and move on' },
  { keys: '0', action: 'Remove the label' },
  { keys: '← → ↑ ↓', action: 'Move through the grid (Shift extends the selection)' },
  { keys: 'Click / Ctrl+Click / Shift+Click', action: 'Select one / toggle one / select a range' },
  { keys: 'Ctrl+A', action: 'Select every image in the current view' },
  { keys: 'Esc', action: 'Clear the selection, close a dialog' },
  { keys: 'Ctrl+Z / Ctrl+Shift+Z', action: 'Undo / redo labeling' },
  { keys: 'T / E / V', action: 'Move the selection to the train pool / test / validation' },
  { keys: 'I', action: 'Import images' },
  { keys: '/', action: 'Search by file name' },
  { keys: '?', action: 'Show this help' },
  { keys: 'Alt+1 … Alt+8', action: 'Pages: Images, Templates, Zero-shot, Train, Routing, Evaluate, Classify, Models' }
];

/** Whether a page's own single-key shortcuts may act: no dialog is open and no modifier (other than Shift) is held. */
export function pageShortcutsAllowed(event: KeyboardEvent): boolean {
  if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return false;
  return !document.querySelector('[role="dialog"]');
}
