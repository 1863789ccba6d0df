// The backend choice on the page (auto, the default: the faster here by a race when a run starts;
// WebGPU; the CPU; or both side by side), auto's one-line reason, and what the page knows about
// WebGPU: the probe's adapter, or why there is none, said plainly with a notice; a lost device
// disables WebGPU and hands its runs to the CPU (the page's onDeviceLost).

import type { BackendName } from '../backends/backend.js';
import { byId, setText } from './dom.js';
import { adapterName, type GpuAccess, type GpuProbe, probeWebGpu } from './gpu.js';
import { hideNotice, showNotice } from './notices.js';
import { APP_BACKEND, type AppBackendChoice } from './settings.js';

export interface BackendPickerDeps {
  /** The device was lost (`why`, without a full stop): runs on it go on on the CPU. */
  onDeviceLost(why: string): void;
  /** What the page shows about WebGPU changed. */
  onChange(): void;
  /** A person picked a backend (the link follows). */
  onPick(): void;
}

export class BackendPicker {
  private readonly fieldset = byId('backend-choice', HTMLFieldSetElement);
  private readonly note = byId('backend-note', HTMLParagraphElement);
  private readonly autoLine = byId('backend-auto', HTMLParagraphElement);
  /** The device, once the probe found one and until it is lost. */
  gpu: GpuAccess | null = null;
  /** Why WebGPU is unavailable, once the probe said so. */
  unavailable: string | null = null;
  /** A person (or a link) picked the backend: the link carries it. */
  picked = false;

  constructor(
    private probe: Promise<GpuProbe>,
    private readonly deps: BackendPickerDeps,
  ) {
    // The CPU backend's threads need shared memory, which only a cross-origin isolated page has.
    if (!crossOriginIsolated) {
      const cpuNote = byId('cpu-note', HTMLParagraphElement);
      setText(cpuNote, 'CPU: one thread: this page is not cross-origin isolated.');
      cpuNote.hidden = false;
    }
    this.fieldset.addEventListener('change', () => {
      this.picked = true;
      this.renderAuto();
      deps.onPick();
    });
    // Registered first, so the probe's result is applied before anyone awaiting probed() goes on.
    void probe.then((result) => this.apply(result));
    // A browser can take long to answer (a busy machine, a GPU process starting): say so, and that
    // nothing waits for it, rather than leave a bare "Checking…".
    setTimeout(() => {
      if (this.gpu === null && this.unavailable === null) {
        setText(
          this.note,
          'Still checking for WebGPU (the browser has not answered yet); Auto and the CPU start runs meanwhile.',
        );
      }
    }, 5000);
  }

  /** Resolves once the latest probe's result is applied. */
  async probed(): Promise<void> {
    await this.probe;
  }

  selected(): AppBackendChoice {
    const checked = this.radios().find((r) => r.checked);
    return APP_BACKEND.parse(checked?.value ?? 'cpu');
  }

  select(choice: AppBackendChoice): void {
    for (const radio of this.radios()) radio.checked = radio.value === choice;
    this.renderAuto();
  }

  /** A link's choice: the link carries it on. */
  pick(choice: AppBackendChoice): void {
    this.select(choice);
    this.picked = true;
  }

  setDisabled(disabled: boolean): void {
    this.fieldset.disabled = disabled;
  }

  /**
   * Auto's line beside the choice, shown while auto is chosen: 'racing' while the race runs, then the
   * backend it chose (its data-auto attribute says which, for tests).
   */
  showAuto(line: string, state: 'racing' | BackendName): void {
    setText(this.autoLine, line);
    this.autoLine.dataset.auto = state;
    this.renderAuto();
  }

  renderAuto(): void {
    this.autoLine.hidden = this.autoLine.textContent === '' || this.selected() !== 'auto';
  }

  private radios(): HTMLInputElement[] {
    return [...this.fieldset.querySelectorAll<HTMLInputElement>('input[name="backend"]')];
  }

  private apply(probe: GpuProbe): void {
    if (probe.ok) {
      this.gpu = probe.gpu;
      this.unavailable = null;
      hideNotice('webgpu');
      setText(this.note, `WebGPU adapter: ${adapterName(probe.gpu.adapter)}.`);
      void probe.gpu.lost.then((reason) => this.lost(probe.gpu, reason));
    } else {
      this.gpu = null;
      this.unavailable = probe.reason;
      setText(this.note, 'WebGPU is unavailable here; the CPU backend works everywhere.');
      showNotice('webgpu', `${probe.reason} New runs use the CPU backend instead; everything else works.`, {
        label: 'Try WebGPU again',
        run: () => {
          this.probe = probeWebGpu();
          void this.probe.then((result) => this.apply(result));
        },
      });
      if (this.needsGpu(this.selected())) this.select('cpu');
    }
    for (const radio of this.radios()) {
      const unavailable = this.needsGpu(APP_BACKEND.parse(radio.value)) && this.gpu === null;
      radio.disabled = unavailable;
      radio.toggleAttribute('data-unavailable', unavailable);
    }
    this.renderAuto();
    this.deps.onChange();
  }

  /** Auto without WebGPU is the CPU; WebGPU and both need it. */
  private needsGpu(choice: AppBackendChoice): boolean {
    return choice === 'webgpu' || choice === 'both';
  }

  /** The device is gone: say so, and move WebGPU runs to the CPU from their last report. */
  private lost(lostGpu: GpuAccess, reason: string): void {
    if (this.gpu !== lostGpu) return;
    const why = reason.replace(/\.$/, '');
    this.apply({ ok: false, reason: `WebGPU stopped working (${why}).` });
    this.deps.onDeviceLost(why);
  }
}
