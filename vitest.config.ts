import { defineConfig } from 'vitest/config';

// The suite in three groups, run one group after another (sequence.groupOrder); docs/TESTING.md says why.
//  1. correctness: every file not named below, two files at a time, each in its own process.
//  2. device: the files that drive the WebGPU device (SwiftShader on the CPU here) or measure time
//     (races, heap soaks, threads, big files), one at a time in one process, so they share one Dawn
//     device and its compiled pipelines (tests/webgpu-context.ts) and no other file competes for the
//     cores while they time something.
//  3. e2e: the browser files, one at a time, on one build, one server and one browser (global-setup.ts).
const DEVICE_FILES = [
  'tests/webgpu-*.test.ts',
  'tests/gradients.test.ts',
  'tests/backend-contract.test.ts',
  'tests/backend-race.test.ts',
  'tests/bench.test.ts',
  'tests/soak.test.ts',
  'tests/trainer.test.ts',
  'tests/trainer-best-epoch.test.ts',
  'tests/validation-epochs.test.ts',
  'tests/app-moving-run.test.ts',
  'tests/cli-bundle.test.ts',
  'tests/cli-reliability.test.ts',
  'tests/cpu-fast-browser.test.ts',
  'tests/cpu-threads.test.ts',
  'tests/cpu-population.test.ts',
  'tests/epoch-progress.test.ts',
  'tests/data-csv.test.ts',
  'tests/model-file.test.ts',
  'tests/probe-backends.test.ts',
  'tests/library-pack.test.ts',
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
          exclude: [...DEVICE_FILES, ...E2E_FILES],
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
          fileParallelism: false,
          // One process for the group: the worker's Dawn device and pipeline cache outlive each file.
          isolate: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...shared,
          name: 'e2e',
          include: E2E_FILES,
          fileParallelism: false,
          globalSetup: ['tests/e2e/global-setup.ts'],
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
