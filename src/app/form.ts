// The settings form on the page, built from fields.ts's FIELDS: a text box or a select per field in
// its group, hidden while it does not apply (a period for a sine, a company for CO2), with its hint and
// a line for its message. Messages a person caused (an invalid value) mark the field; notes (a link's
// refused value, a divergence) only explain. Text goes in through textContent only.

import { el, setText } from './dom.js';
import {
  defaultFieldValues,
  FIELDS,
  type FieldName,
  type FieldValues,
  fieldApplies,
  type SourceKind,
} from './fields.js';
import { type ParseResult, parseSettings } from './settings.js';

/** Where each group's fields go; split and normalise come after the CSV controls. */
export interface FormHosts {
  data: HTMLElement;
  split: HTMLElement;
  model: HTMLElement;
  training: HTMLElement;
}

type Control = HTMLInputElement | HTMLSelectElement;

export class SettingsForm {
  private readonly controls = new Map<FieldName, Control>();
  private readonly messages = new Map<FieldName, HTMLParagraphElement>();
  private readonly boxes = new Map<FieldName, HTMLElement>();
  private readonly listeners: ((name: FieldName) => void)[] = [];
  private readonly leaveListeners: ((name: FieldName, valid: boolean) => void)[] = [];
  private readonly typingPause = new Map<FieldName, number>();
  /** The defaults of the source now chosen: a field still at one follows the next source's. */
  private defaults: FieldValues = defaultFieldValues();

  constructor(hosts: FormHosts) {
    for (const spec of FIELDS) {
      const id = `field-${spec.name}`;
      const describedBy = `${id}-hint ${id}-error`;
      let control: Control;
      if (spec.options) {
        control = el('select', { id, name: spec.name, 'aria-describedby': describedBy });
        for (const option of spec.options) control.append(el('option', { value: option.value }, [option.label]));
      } else {
        control = el('input', {
          id,
          name: spec.name,
          type: 'text',
          inputmode: spec.inputMode,
          autocomplete: 'off',
          spellcheck: 'false',
          'aria-describedby': describedBy,
        });
      }
      control.value = spec.defaultText;
      const message = el('p', { class: 'field-error', id: `${id}-error` });
      const box = el('div', { class: 'field', 'data-field': spec.name }, [
        el('label', { for: id }, [spec.label]),
        control,
        el('p', { class: 'field-hint', id: `${id}-hint` }, [spec.hint]),
        message,
      ]);
      const host = spec.name === 'split' || spec.name === 'normalise' ? hosts.split : hosts[spec.group];
      host.append(box);
      this.controls.set(spec.name, control);
      this.messages.set(spec.name, message);
      this.boxes.set(spec.name, box);
      this.listen(spec.name, control);
    }
    this.refreshVisibility();
  }

  /** Called when a text field is left, with whether every field is valid (the page checks it against the data). */
  onLeave(listener: (name: FieldName, valid: boolean) => void): void {
    this.leaveListeners.push(listener);
  }

  /** Called after any field changes (selects at once, text as typed). */
  onChange(listener: (name: FieldName) => void): void {
    this.listeners.push(listener);
  }

  values(): FieldValues {
    const values = defaultFieldValues();
    for (const [name, control] of this.controls) values[name] = control.value;
    return values;
  }

  /** Sets fields (a link, a loaded model, the defaults) and clears their messages. */
  setValues(values: Partial<FieldValues>): void {
    for (const [name, value] of Object.entries(values) as [FieldName, string][]) {
      this.controls.get(name)!.value = value;
      this.showError(name, undefined);
    }
    const now = this.values();
    this.defaults = defaultFieldValues(now.source as SourceKind, now.dataset);
    this.refreshVisibility();
  }

  /** A problem with the value: shown beside the field, which is marked invalid. */
  showError(name: FieldName, message: string | undefined): void {
    const control = this.controls.get(name)!;
    setText(this.messages.get(name)!, message ?? '');
    if (message === undefined) control.removeAttribute('aria-invalid');
    else control.setAttribute('aria-invalid', 'true');
  }

  /** An explanation beside the field (the value itself is fine); cleared when the field changes. */
  showNote(name: FieldName, message: string): void {
    // A check still waiting for a pause in typing is older than the note: it must not clear it.
    clearTimeout(this.typingPause.get(name));
    setText(this.messages.get(name)!, message);
  }

  focus(name: FieldName): void {
    this.controls.get(name)!.focus();
  }

  /** Checks the form, shows every problem beside its field, and returns the settings if all are valid. */
  validate(showAll: boolean, touched?: FieldName): ParseResult {
    const result = parseSettings(this.values());
    const errors = result.ok ? {} : result.errors;
    for (const { name } of FIELDS) {
      const shown = this.controls.get(name)!.hasAttribute('aria-invalid');
      if (showAll || name === touched || shown) this.showError(name, errors[name]);
    }
    return result;
  }

  /** Shows the fields that apply to the current values, hides the rest. */
  refreshVisibility(): void {
    const values = this.values();
    for (const [name, box] of this.boxes) box.hidden = !fieldApplies(name, values);
  }

  private listen(name: FieldName, control: Control): void {
    const changed = () => {
      this.refreshVisibility();
      for (const listener of this.listeners) listener(name);
    };
    if (control instanceof HTMLSelectElement) {
      control.addEventListener('change', () => {
        if (name === 'source' || name === 'dataset') this.followSource();
        this.validate(false, name);
        changed();
      });
      return;
    }
    // Problems show while typing, after a short pause (at once while a field is marked, so the mark
    // clears as soon as it is fixed), and at once when the field is left. The run buttons sit above
    // the fields, so a message appearing then moves nothing a pointer is heading for.
    control.addEventListener('blur', () => {
      clearTimeout(this.typingPause.get(name));
      const result = this.validate(false, name);
      for (const listener of this.leaveListeners) listener(name, result.ok);
    });
    control.addEventListener('input', () => {
      clearTimeout(this.typingPause.get(name));
      if (control.hasAttribute('aria-invalid')) this.validate(false, name);
      else {
        setText(this.messages.get(name)!, '');
        this.typingPause.set(
          name,
          window.setTimeout(() => this.validate(false, name), 600),
        );
      }
      changed();
    });
  }

  /**
   * A new source (or bundled series) brings its own defaults (the transform, the split, the window…)
   * to every field still at the previous source's default; a value a person set stays.
   */
  private followSource(): void {
    const now = this.values();
    const after = defaultFieldValues(now.source as SourceKind, now.dataset);
    for (const [name, control] of this.controls) {
      if (name === 'source' || name === 'dataset') continue;
      if (control.value === this.defaults[name] && control.value !== after[name]) {
        control.value = after[name];
        this.showError(name, undefined);
      }
    }
    this.defaults = after;
  }
}
