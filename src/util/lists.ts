// Small list helpers shared across layers (the app's session and its data view both compare column
// lists), kept here so that neither has to import the other.

/** Whether `a` and `b` hold the same strings in the same order. */
export function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}
