import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores here: GPU (SwiftShader) and CPU-heavy files run one at a time so timings stay sane.
    fileParallelism: false,
  },
});
