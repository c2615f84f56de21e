/**
 * Fuzzed import inputs (CSV label files, CoOp split JSON, image files) through `import.run`, fuzzed
 * template files through `mocoop templates --import` in-process, and generated command lines (unknown,
 * valueless or malformed options, odd values) through the CLI in-process: refused in words naming the file or
 * field, or accepted with every skipped row or file given a reason — never a crash, a hang, a changed
 * project after a refusal, a lost earlier image, or a failed PRAGMA integrity_check.
 * MOCOOP_FUZZ_SEED picks other cases (the bench runs more: npm run bench, reliability line).
 */
import { describe, it } from 'vitest';
import { IMPORT_KINDS } from './fuzz/import-files';
import { FUZZ_SEED, expectCasesHandled, useFuzzWorld } from './fuzz/suite';

const CASES = 28;

describe('fuzzed CSV, split, image and template files and command lines are refused in words or accepted, never a crash', () => {
  const fuzz = useFuzzWorld();

  // Every generator yields refusals (whole files or, for images, the file listed as skipped).
  it.each([...IMPORT_KINDS, 'templates' as const, 'cli' as const, 'experts' as const])(`%s: ${CASES} generated cases (seed ${FUZZ_SEED})`, (kind) =>
    expectCasesHandled(fuzz.world, kind, CASES, 4)
  );
});
