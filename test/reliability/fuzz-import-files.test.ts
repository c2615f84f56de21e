/**
 * Fuzzed import inputs (CSV label files, CoOp split JSON, image files) through `import.run`, fuzzed
 * template files through `mocoop templates --import` in-process, and generated command lines (unknown,
 * valueless or malformed options, odd values) through the CLI in-process: refused in words naming the file or
 * field, or accepted with every skipped row or file given a reason — never a crash, a hang, a changed
 * project after a refusal, a lost earlier image, or a failed PRAGMA integrity_check.
 * MOCOOP_FUZZ_SEED picks other cases (the bench runs more: npm run bench, reliability line).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FuzzWorld } from './fuzz/harness';
import { IMPORT_KINDS } from './fuzz/import-files';
import { describeFailures, tally } from './fuzz/judge';
import { tempDir } from '../helpers/temp';

const SEED = Number(process.env.MOCOOP_FUZZ_SEED ?? 9);
const CASES = 28;

describe('fuzzed CSV, split, image and template files and command lines are refused in words or accepted, never a crash', () => {
  let tmp: ReturnType<typeof tempDir>;
  let world: FuzzWorld;
  beforeAll(async () => {
    tmp = tempDir();
    process.env.MOCOOP_BACKEND = 'wasm';
    world = await FuzzWorld.create(tmp.dir);
  });
  afterAll(() => {
    world?.dispose();
    tmp.cleanup();
  });

  it.each([...IMPORT_KINDS, 'templates' as const, 'cli' as const, 'experts' as const])(`%s: ${CASES} generated cases (seed ${SEED})`, async (kind) => {
    const results = await world.run(kind, SEED, CASES);
    expect(describeFailures(results)).toBe('');
    const counts = tally(results);
    expect(counts.refusedCleanly + counts.accepted).toBe(CASES);
    // Every generator yields refusals (whole files or, for images, the file listed as skipped).
    expect(counts.refusedCleanly).toBeGreaterThanOrEqual(4);
  });
});
