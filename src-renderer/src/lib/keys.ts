/** True when a key press belongs to a text field (so app shortcuts must not act on it). */
export function isTyping(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  if (!target) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

export interface Shortcut {
  page: 'Every page' | 'Images' | 'Few-shot sets' | 'Train' | 'Routing' | 'Evaluate';
  keys: string;
  action: string;
}

export const SHORTCUTS: Shortcut[] = [
  { page: 'Every page', keys: 'Alt+1 … Alt+9', action: 'Pages: Images, Few-shot sets, Templates, Zero-shot, Train, Routing, Evaluate, Classify, Models' },
  { page: 'Every page', keys: '?', action: 'Show this help' },
  { page: 'Every page', keys: 'Tab / Shift+Tab', action: 'Move between controls; Enter or Space presses a button' },
  { page: 'Every page', keys: 'Esc', action: 'Close a dialog' },
  { page: 'Images', keys: '1 – 9', action: 'Label the selection with class 1–9 and move on' },
  { page: 'Images', keys: '0', action: 'Remove the label' },
  { page: 'Images', keys: 'L', action: 'Label with any class: type a few letters, ↑ ↓ to choose, Enter (a new name creates the class)' },
  {
    page: 'Images',
    keys: 'Space / double-click',
    action: 'View the image large (← → previous / next, Z fit or 1:1, 1–9, 0, L, T/E/V work inside; Esc or Space closes)'
  },
  { page: 'Images', keys: '← → ↑ ↓', action: 'Move through the grid (Shift extends the selection)' },
  { page: 'Images', keys: 'Click / Ctrl+Click / Shift+Click', action: 'Select one / toggle one / select a range' },
  { page: 'Images', keys: 'Ctrl+A', action: 'Select every image in the current view' },
  { page: 'Images', keys: 'Esc', action: 'Clear the selection' },
  { page: 'Images', keys: 'Ctrl+Z / Ctrl+Shift+Z', action: 'Undo / redo labeling' },
  { page: 'Images', keys: 'T / E / V', action: 'Move the selection to the train pool / test / validation' },
  { page: 'Images', keys: 'P', action: 'While picking a few-shot set: add the selection (Shift+P removes it)' },
  { page: 'Images', keys: 'A / X', action: '“Label next”: accept the run’s guess / skip the image (the queue is asked again every 20 labels)' },
  { page: 'Images', keys: 'I', action: 'Import images' },
  { page: 'Images', keys: '/', action: 'Search file names, folders and class names (every word must match)' },
  { page: 'Few-shot sets', keys: '↑ ↓', action: 'Choose the previous / next set' },
  { page: 'Few-shot sets', keys: 'G', action: "Edit the chosen set's images in the grid" },
  { page: 'Few-shot sets', keys: 'Delete', action: 'Delete the chosen set (sets a run used are kept)' },
  { page: 'Train', keys: 'Ctrl+Enter', action: 'Start the run (or add it to the queue)' },
  { page: 'Train', keys: 'Ctrl+.', action: 'Cancel the running run (it can be resumed)' },
  { page: 'Routing', keys: '1 – 9 / ← →', action: 'Show the images routed to expert 1–9 / the previous or next expert' },
  { page: 'Routing', keys: 'K', action: 'Top-1 only or any of the top-K experts' },
  { page: 'Routing', keys: 'Esc', action: 'Clear the expert, the lasso and the chosen image' },
  { page: 'Evaluate', keys: '← →', action: 'Open the previous / next run' },
  { page: 'Evaluate', keys: 'Esc', action: 'Back from a confusion-matrix cell to all misclassified images' }
];

/** Whether a page's own single-key shortcuts may act: no dialog is open and no modifier (other than Shift) is held. */
export function pageShortcutsAllowed(event: KeyboardEvent): boolean {
  if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return false;
  return !document.querySelector('[role="dialog"]');
}
