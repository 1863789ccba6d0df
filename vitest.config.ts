import { defineConfig } from 'vitest/config';

// The suite in four groups, run one group after another (sequence.groupOrder); docs/TESTING.md says why.
//  1. correctness: every file not named below, two files at a time, each in its own process.
//  2. device: the files that drive the WebGPU device (SwiftShader on the CPU here), start threads or
//     child processes, and time nothing: two files at a time, each worker one process for all its files
//     (isolate: false), so a worker's Dawn device and compiled pipelines outlive each file
//     (tests/webgpu-context.ts).
//  3. timed: the files that measure time (races, slices, timestamps, thread speed-ups), one at
//     a time in one process, so no other file competes for the cores while they time something.
//  4. e2e: the browser files, one at a time, on one build, one server and one browser (global-setup.ts).
//     Not two at a time: their contexts share the browser's one GPU process, and with two files at once
//     a WebGPU run lost its device and the next test found no adapter (docs/TESTING.md).
const DEVICE_FILES = [
  'tests/webgpu-*.test.ts',
  'tests/gradients.test.ts',
  'tests/backend-contract.test.ts',
  'tests/trainer.test.ts',
  'tests/trainer-best-epoch.test.ts',
  'tests/validation-epochs.test.ts',
  'tests/cpu-fast-browser.test.ts',
  'tests/cpu-population.test.ts',
  'tests/model-file.test.ts',
  'tests/probe-backends.test.ts',
  'tests/library-pack.test.ts',
  'tests/app-moving-run.test.ts',
  'tests/cli-bundle.test.ts',
  'tests/cli-reliability.test.ts',
  'tests/soak.test.ts',
  'tests/bench.test.ts',
];
const TIMED_FILES = [
  'tests/webgpu-slicing.test.ts',
  'tests/webgpu-timestamps.test.ts',
  'tests/webgpu-waits.test.ts',
  'tests/backend-race.test.ts',
  'tests/cpu-threads.test.ts',
  'tests/epoch-progress.test.ts',
];
const E2E_FILES = ['tests/e2e/**/*.test.ts'];

const shared = { testTimeout: 120_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: 'correctness',
          include: ['tests/**/*.test.ts'],
          exclude: [...DEVICE_FILES, ...TIMED_FILES, ...E2E_FILES],
          fileParallelism: true,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: 'device',
          include: DEVICE_FILES,
          exclude: TIMED_FILES,
          fileParallelism: true,
          maxWorkers: 2,
          // A worker's Dawn device and pipeline cache outlive each file it runs.
          isolate: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...shared,
          name: 'timed',
          include: TIMED_FILES,
          fileParallelism: false,
          isolate: false,
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          ...shared,
          name: 'e2e',
          include: E2E_FILES,
          fileParallelism: false,
          globalSetup: ['tests/e2e/global-setup.ts'],
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
