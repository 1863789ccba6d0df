// The CPU backend's threads in a browser: Web Workers. A pool's threads (cpuThread.ts) need shared
// memory, which a browser allows only on a cross-origin isolated page (served with
// Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp), and a
// coordinating thread that may block, which a page's main thread may not: the app runs the CPU
// backend in a worker (cpuWorker.ts). A population's member threads (cpuMemberThread.ts) need
// neither: they are sent their members' windows and answer by messages, on any page.

import type { CpuThreadHost, MemberThread, ThreadHandle, ThreadStart } from './threads.js';

export const browserThreadHost: CpuThreadHost = {
  cores: typeof navigator === 'undefined' ? 1 : navigator.hardwareConcurrency || 1,
  problem: () =>
    (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true
      ? null
      : 'this page is not cross-origin isolated',
  spawn: (start: ThreadStart) =>
    new Promise<ThreadHandle>((resolve, reject) => {
      const worker = new Worker(new URL('./cpuThread.ts', import.meta.url), {
        type: 'module',
        name: `cpu thread ${start.index}`,
      });
      worker.onmessage = () => resolve({ terminate: () => worker.terminate() });
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(event.message || 'the thread did not start'));
      };
      worker.postMessage(start);
    }),
  spawnMembers: () =>
    new Promise<MemberThread>((resolve, reject) => {
      const worker = new Worker(new URL('./cpuMemberThread.ts', import.meta.url), {
        type: 'module',
        name: 'cpu member thread',
      });
      // Its first message says it listens.
      worker.onmessage = () => resolve(memberThreadOf(worker));
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(event.message || 'the thread did not start'));
      };
    }),
};

function memberThreadOf(worker: Worker): MemberThread {
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    listen(onMessage, onFailure) {
      worker.onmessage = (event) => onMessage(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        onFailure(new Error(event.message || 'the thread failed'));
      };
    },
    terminate: async () => worker.terminate(),
  };
}
