// The Train view's member chooser: with a population's run on the charts (Members above 1), the
// charts show the ensemble (the members' median and band) or one member alone, chosen here. Hidden
// while no lane has members to choose from.

import { byId, el } from './dom.js';
import type { EnsembleTrace } from './ensembleBand.js';

export class MemberChoice {
  private readonly label = byId('member-choice', HTMLLabelElement);
  private readonly select = byId('member-shown', HTMLSelectElement);
  /** The member shown alone, or null for the ensemble. */
  private chosen: number | null = null;
  private seeds = '';

  constructor(onChange: () => void) {
    this.select.addEventListener('change', () => {
      const value = this.select.value;
      this.chosen = value === 'ensemble' ? null : Number(value);
      onChange();
    });
  }

  /** The member to show alone (null: the ensemble). */
  member(): number | null {
    return this.chosen;
  }

  /** Offers the members of the lanes' population (the first lane that has one), or hides. */
  render(ensembles: readonly (EnsembleTrace | null)[]): void {
    const ensemble = ensembles.find((e) => e !== null && e.each !== null) ?? null;
    this.label.hidden = ensemble === null;
    if (ensemble === null) {
      this.chosen = null;
      this.seeds = '';
      return;
    }
    const key = ensemble.seeds.join(',');
    if (key !== this.seeds) {
      this.seeds = key;
      if (this.chosen !== null && this.chosen >= ensemble.members) this.chosen = null;
      this.select.replaceChildren(
        el('option', { value: 'ensemble' }, [`all ${ensemble.members} members: median and band`]),
        ...ensemble.seeds.map((seed, m) => el('option', { value: String(m) }, [`member ${m} (seed ${seed})`])),
      );
    }
    this.select.value = this.chosen === null ? 'ensemble' : String(this.chosen);
  }
}
