// The runs kept in this browser: every run the Train view started, with what its row and its overlay
// need (settings, data, each lane's trace and errors in units, the model file), in IndexedDB, so
// they survive a reload until cleared. Where IndexedDB cannot be opened (a private window that
// refuses it, say) the runs live in memory only, and the page says so and asks before leaving.
//
// A record holds its lanes as a list (one per backend, two in a race), so a run that later holds K
// members and their ensemble is more entries in the same list, not a new format.

import type { BackendName } from '../backends/backend.js';
import type { ColumnErrors } from '../data/metrics.js';
import type { BackendTrace } from './columns.js';

export const RUN_RECORD_VERSION = 1;

/** One lane of a kept run: its backend, how far it got, what it drew, and its errors in units. */
export interface LaneRecord {
  backend: BackendName;
  /** "CPU", "WebGPU → CPU", "loaded model". */
  label: string;
  status: string;
  epoch: number;
  epochs: number;
  /** Training seconds (pauses excluded). */
  seconds: number;
  steps: number;
  trace: BackendTrace;
  /** The model's errors per output column on the compared part, in the data's units (null before a report). */
  errors: ColumnErrors | null;
}

export interface RunRecord {
  version: typeof RUN_RECORD_VERSION;
  id: string;
  /** Shown as "#3": one more than the highest kept when it started. */
  number: number;
  /** When it started, ms since 1970. */
  startedAt: number;
  /** The settings form's text when it started (what reopening puts back). */
  fieldValues: Record<string, string>;
  /** The backend choice: auto, webgpu, cpu or both. */
  backendChoice: string;
  data: {
    label: string;
    rows: number;
    /** The data's fingerprint: overlays draw predictions only over the same data. */
    hash: string;
    outputs: string[];
    unit: string | null;
    comparedOn: 'test' | 'train';
    /** How its errors are scaled on the error chart (per sample where it had a held-out part). */
    scale: { train: number; validation: number };
  };
  /** The benchmarks' RMSE per output column on the compared part (null where one does not apply). */
  baselines: { label: string; rmse: number[] | null }[];
  lanes: LaneRecord[];
  /** The model file (JSON text) of the first lane that reported, for the row's download; null before. */
  model: string | null;
}

const DB_NAME = 'webgpu-lstm';
const STORE = 'runs';

/** Runs in IndexedDB, or in memory where it cannot be opened (`persistent` says which). */
export class RunStore {
  private db: IDBDatabase | null = null;
  persistent = false;
  /** Why runs are not kept across reloads, once known. */
  problem: string | null = null;

  /** Opens the database and returns every kept run, oldest first. */
  async open(): Promise<RunRecord[]> {
    try {
      this.db = await openDatabase();
      this.persistent = true;
      const records = await request<RunRecord[]>(this.db.transaction(STORE).objectStore(STORE).getAll());
      return records.filter((r) => r.version === RUN_RECORD_VERSION).sort((a, b) => a.number - b.number);
    } catch (err) {
      this.db = null;
      this.persistent = false;
      this.problem = `this browser does not let the page keep runs (${(err as Error).message || 'IndexedDB is unavailable'})`;
      return [];
    }
  }

  /** Keeps (or replaces) a run; resolves true once it is written. */
  async put(record: RunRecord): Promise<boolean> {
    if (this.db === null) return false;
    try {
      await done(this.db, 'readwrite', (store) => store.put(record));
      return true;
    } catch (err) {
      this.problem = `a run could not be kept (${(err as Error).message})`;
      return false;
    }
  }

  async delete(id: string): Promise<void> {
    if (this.db !== null) await done(this.db, 'readwrite', (store) => store.delete(id));
  }

  async clear(): Promise<void> {
    if (this.db !== null) await done(this.db, 'readwrite', (store) => store.clear());
  }
}

function openDatabase(): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined') return Promise.reject(new Error('IndexedDB is unavailable'));
  const opening = indexedDB.open(DB_NAME, 1);
  opening.onupgradeneeded = () => {
    if (!opening.result.objectStoreNames.contains(STORE)) opening.result.createObjectStore(STORE, { keyPath: 'id' });
  };
  return request(opening);
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB failed'));
  });
}

/** Runs `work` in a transaction and resolves when it has committed. */
function done(db: IDBDatabase, mode: IDBTransactionMode, work: (store: IDBObjectStore) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, mode);
    work(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error ?? new Error('IndexedDB failed'));
    transaction.onabort = () => reject(transaction.error ?? new Error('the write was aborted'));
  });
}
