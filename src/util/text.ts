// Small text helpers for messages a person reads: shared by the app's views and panels, so they sit
// below every module that words a message.

/** `text` with its first character upper-case. */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Ends a message with exactly one full stop. */
export function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
