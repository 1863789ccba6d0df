// Notices above the views: one per key (a new one replaces the old), dismissable, text only.

import { byId, el } from './dom.js';

const host = () => byId('notices', HTMLDivElement);

export function showNotice(key: string, text: string, action?: { label: string; run: () => void }): void {
  hideNotice(key);
  const notice = el('div', { class: 'notice', 'data-notice': key, role: 'alert' }, [el('p', {}, [text])]);
  if (action) {
    const button = el('button', { type: 'button' }, [action.label]);
    button.addEventListener('click', action.run);
    notice.append(button);
  }
  const close = el('button', { type: 'button', class: 'notice-close', 'aria-label': 'Dismiss this notice' }, ['×']);
  close.addEventListener('click', () => hideNotice(key));
  notice.append(close);
  host().append(notice);
}

export function hideNotice(key: string): void {
  for (const node of host().querySelectorAll(`[data-notice="${CSS.escape(key)}"]`)) node.remove();
}
