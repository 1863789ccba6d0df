// A few DOM helpers. Text always goes in through textContent, never as HTML.

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return node;
}

/** The element with this id; a missing one is a bug in index.html, so it throws. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`index.html lacks #${id} (${type.name})`);
  return node;
}

export function setText(node: HTMLElement, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

/** Offers `text` as a file download. */
export function downloadText(fileName: string, text: string, type: string): void {
  downloadBlob(fileName, new Blob([text], { type }));
}

/** Offers `blob` as a file download (a Blob URL, released once the download has started). */
export function downloadBlob(fileName: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const link = el('a', { href: url, download: fileName });
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Makes every sideways-scrolling table box reachable by keyboard (a focusable region named by the
 * heading its data-label names, else "Table"), so the arrow keys scroll what does not fit.
 */
export function scrollableByKeyboard(root: ParentNode = document): void {
  for (const box of root.querySelectorAll<HTMLElement>('.table-scroll')) {
    box.tabIndex = 0;
    box.setAttribute('role', 'region');
    const label = box.dataset.label;
    if (label !== undefined) box.setAttribute('aria-labelledby', label);
    else box.setAttribute('aria-label', 'Table');
  }
}
