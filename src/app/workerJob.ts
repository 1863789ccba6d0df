// One job in a Web Worker of its own (parsing a CSV, reading a model file): the worker is started for
// the job and terminated when its answer comes, on abort, or when it fails, so a hostile file costs
// the page nothing but the wait. Replies are progress fractions, then a result or a failure.

import { InputError } from '../model/errors.js';
import type { RunFailure } from './protocol.js';

export type JobReply<Result> =
  | { type: 'progress'; fraction: number }
  | { type: 'result'; result: Result }
  | { type: 'error'; failure: RunFailure };

/**
 * Posts `request` to the worker `start()` makes and resolves with its result; a failure that names a
 * field comes back as an InputError, as the worker's code threw it.
 */
export function workerJob<Request, Result>(
  start: () => Worker,
  request: Request,
  options: {
    signal?: AbortSignal;
    onProgress?: (fraction: number) => void;
    stopped?: string;
    /** Buffers of `request` moved to the worker rather than copied. */
    transfer?: Transferable[];
  } = {},
): Promise<Result> {
  const { signal, onProgress } = options;
  return new Promise((resolve, reject) => {
    const worker = start();
    const end = () => {
      worker.terminate();
      signal?.removeEventListener('abort', aborted);
    };
    const aborted = () => {
      end();
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', aborted);
    worker.onmessage = (event: MessageEvent<JobReply<Result>>) => {
      const reply = event.data;
      if (reply.type === 'progress') {
        onProgress?.(reply.fraction);
        return;
      }
      end();
      if (reply.type === 'result') resolve(reply.result);
      else {
        const { field, message } = reply.failure;
        reject(field === null ? new Error(message) : new InputError(field, message));
      }
    };
    worker.onerror = (event) => {
      end();
      reject(new Error(event.message || options.stopped || 'the worker stopped'));
    };
    worker.postMessage(request, options.transfer ?? []);
  });
}

/** A dedicated worker's scope, as the project's DOM lib can name it: it posts like a port. */
export const workerScope = globalThis as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent) => void) | null;
};
