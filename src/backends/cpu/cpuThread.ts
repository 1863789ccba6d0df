// One thread of the CPU backend's pool in a browser (started by browserThreads.ts): instantiates the
// kernels on the shared memory it is sent and runs their threadMain until the pool stops it; a
// thread that traps marks the failure so that no other thread waits for it. (Node's threads run the
// same few lines, in nodeThreads.ts.)

import type { Kernels } from './fastLstm.js';
import type { ThreadStart } from './threads.js';

// The project's lib is DOM (not WebWorker); a dedicated worker's scope posts like a port.
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<ThreadStart>) => void) | null;
  postMessage(message: string): void;
  close(): void;
};

scope.onmessage = (event) => {
  const { module, memory, index } = event.data;
  const kernels = new WebAssembly.Instance(module, { env: { memory, now: () => performance.now() } })
    .exports as unknown as Kernels;
  scope.postMessage('ready');
  try {
    kernels.threadMain(index);
  } catch (err) {
    kernels.fail();
    throw err;
  }
  scope.close();
};
