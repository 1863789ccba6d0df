// The CPU backend's threads in Node: worker_threads. A pool's threads each run a few lines of plain
// JavaScript (no TypeScript loader needed in the worker) that instantiate the kernels on the shared
// memory and enter threadMain. A member thread runs this project's modules (serveNodeMemberThread):
// where they are TypeScript source (tests, `npm run cli`) through tsx's require hook, which works in a
// worker on Node 20 where loader hooks (--import) do not; in the one-file CLI the bundle itself, whose
// entry serves when it finds itself on a member thread (isNodeMemberThread). Workers are unref'd
// while no answer is awaited, so a forgotten backend never keeps Node alive; dispose() ends them. (A
// browser's threads run the same code, in cpuThread.ts and cpuMemberThread.ts.) Also: relaxed SIMD
// for Node 20, whose V8 has it behind a flag.

import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { relaxedSimdValidates } from './kernelLoader.js';
import { type GroupRequest, serveMemberGroup } from './memberGroup.js';
import type { CpuThreadHost, MemberThread, ThreadStart } from './threads.js';

const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, index } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory, now: () => performance.now() } }).exports;
parentPort.postMessage('ready');
try {
  kernels.threadMain(index);
} catch (err) {
  kernels.fail();
  throw err;
}
`;

/** What a member thread's workerData says it is. */
const MEMBER_THREAD_ROLE = 'cpu member thread';

/**
 * A member thread's first lines: the modules of this file through tsx's require hook where they are
 * TypeScript source, else the bundle this file is part of (its entry serves, see isNodeMemberThread).
 */
const MEMBER_THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
if (workerData.typescript === null) {
  import(workerData.entry);
} else {
  require(workerData.typescript);
  require(workerData.entry).serveNodeMemberThread();
}
`;

/** Workers started and not yet exited. */
const alive = new Set<Worker>();

/** How many of the CPU backend's worker threads are alive in this process (none after every dispose()). */
export function liveNodeThreads(): number {
  return alive.size;
}

/**
 * Starts a worker on `source` (counted in `alive`); resolves with it once it posts its first message,
 * and unrefs it then: until that message the caller waits for it, and an unref'd worker would let Node
 * end with the wait unfinished (where nothing else is pending: exit status 0 and no output).
 */
function startWorker(source: string, data: unknown, name: string): Promise<Worker> {
  return new Promise<Worker>((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: data, execArgv: [], name });
    alive.add(worker);
    worker.once('exit', () => alive.delete(worker));
    worker.once('message', () => {
      worker.unref();
      resolve(worker);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the thread exited (${code}) before it started`)));
  });
}

/** What a member thread loads: this file's TypeScript source with tsx's require hook, or the bundle it is part of. */
function memberThreadData(): { role: string; typescript: string | null; entry: string } {
  const source = import.meta.url.endsWith('.ts');
  return {
    role: MEMBER_THREAD_ROLE,
    typescript: source ? createRequire(import.meta.url).resolve('tsx/cjs') : null,
    entry: source ? fileURLToPath(import.meta.url) : import.meta.url,
  };
}

/**
 * A started member thread: ref'd while an answer is owed (each request gets one), so Node waits for
 * it, and from terminate() until it has exited. An answer that comes in while it is being ended (to a
 * request sent just before) must not unref it: terminate() is awaited, and with nothing else pending
 * Node would end there, exit status 0 and nothing printed (a search that disposed its last population
 * with sent calls still unanswered ended so, before its results).
 */
export function nodeMemberThread(
  worker: Pick<Worker, 'ref' | 'unref' | 'postMessage' | 'on' | 'terminate'>,
): MemberThread {
  let owed = 0;
  let ending = false;
  return {
    post(message, transfer) {
      if (owed++ === 0) worker.ref();
      worker.postMessage(message, transfer as never[]);
    },
    listen(onMessage, onFailure) {
      worker.on('message', (message) => {
        if (--owed === 0 && !ending) worker.unref();
        onMessage(message);
      });
      worker.on('error', onFailure);
      worker.on('exit', (code) => onFailure(new Error(`the thread exited (${code})`)));
    },
    terminate: async () => {
      ending = true;
      worker.ref();
      await worker.terminate();
    },
  };
}

export const nodeThreadHost: CpuThreadHost = {
  cores: availableParallelism(),
  problem: () => null,
  spawn: async (start: ThreadStart) => {
    const worker = await startWorker(THREAD_SOURCE, start, `cpu thread ${start.index}`);
    return { terminate: () => void worker.terminate() };
  },
  spawnMembers: async () =>
    nodeMemberThread(await startWorker(MEMBER_THREAD_SOURCE, memberThreadData(), MEMBER_THREAD_ROLE)),
};

/** Whether this thread is a member thread of the CPU backend (the one-file CLI's entry asks, to serve instead of run). */
export function isNodeMemberThread(): boolean {
  return !isMainThread && (workerData as { role?: unknown } | null)?.role === MEMBER_THREAD_ROLE;
}

/** A member thread's work: answers its population's requests (memberGroup.ts) until it is ended. */
export function serveNodeMemberThread(): void {
  const port = parentPort;
  if (port === null || !isNodeMemberThread()) throw new Error('serveNodeMemberThread off a member thread');
  serveMemberGroup({
    post: (message, transfer) => port.postMessage(message, transfer as never[]),
    listen: (onRequest) => port.on('message', (request: GroupRequest) => onRequest(request)),
  });
  port.postMessage('listening');
}

/**
 * Lets the kernels use relaxed SIMD's fused multiply-add in Node 20 (V8 11.3 has it behind
 * --experimental-wasm-relaxed-simd; later Node versions have it on, and this changes nothing).
 * Call before the first CPU backend is made: the kernels' variant is chosen once.
 */
export function allowRelaxedSimd(): void {
  if (!relaxedSimdValidates()) setFlagsFromString('--experimental-wasm-relaxed-simd');
}
