/** Keyboard shortcuts of the canvas, listed once for both the handler and the help overlay. */
export const SHORTCUTS: { keys: string; does: string }[] = [
  { keys: "Ctrl/⌘ Z", does: "Undo" },
  { keys: "Ctrl/⌘ Shift Z, Ctrl Y", does: "Redo" },
  { keys: "Delete, Backspace", does: "Delete the selection" },
  { keys: "Ctrl/⌘ C / V", does: "Copy / paste (also between workflows)" },
  { keys: "Ctrl/⌘ D", does: "Duplicate the selection" },
  { keys: "Ctrl/⌘ A", does: "Select all" },
  { keys: "Shift + drag", does: "Box-select; Shift/Ctrl + click adds to the selection" },
  { keys: "Ctrl/⌘ S", does: "Save now" },
  { keys: "Ctrl/⌘ Enter", does: "Open the test run" },
  { keys: "L", does: "Auto-layout" },
  { keys: "F", does: "Zoom to fit" },
  { keys: "Esc", does: "Clear the selection" },
  { keys: "?", does: "Show this help" },
];

export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
}
