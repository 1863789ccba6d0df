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

/** Control characters and the invisible ones that reorder text (bidirectional overrides and isolates). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` safe to print on a terminal: every control character (escape sequences, line ends, tabs) and
 * every bidirectional control written as an escape (`\x1b`, `\n`, `\u202e`), so a path or a value from a
 * file can neither move the cursor, recolour, retitle or reorder what is shown, nor add a line.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (ch) => {
    const code = ch.charCodeAt(0);
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
