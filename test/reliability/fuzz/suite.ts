/**
 * What the fuzz suites (test/reliability/fuzz-*.test.ts) share: the seed, a FuzzWorld per describe,
 * and the verdict on a batch of generated cases.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { useEnv, useTempDir } from '../../helpers/suite';
import { FuzzWorld } from './harness';
import { describeFailures, tally } from './judge';

/** The seed of the suites' cases; MOCOOP_FUZZ_SEED picks other ones (the bench runs more: npm run bench, reliability line). */
export const FUZZ_SEED = Number(process.env.MOCOOP_FUZZ_SEED ?? 9);

/**
 * A FuzzWorld for the enclosing describe, in a temporary folder (`world.root`): made in beforeAll
 * with MOCOOP_BACKEND=wasm, disposed in afterAll with its folder and MOCOOP_BACKEND put back.
 */
export function useFuzzWorld(): { readonly world: FuzzWorld } {
  const tmp = useTempDir();
  useEnv({ MOCOOP_BACKEND: 'wasm' });
  let world: FuzzWorld | undefined;
  beforeAll(async () => {
    world = await FuzzWorld.create(tmp.dir);
  });
  afterAll(() => world?.dispose());
  return {
    get world() {
      if (!world) throw new Error('useFuzzWorld: the world is made in beforeAll');
      return world;
    }
  };
}

/**
 * Runs `cases` generated cases of `kind` and judges them: no failure (crash, unclear message, broken
 * input accepted, data lost), every case tried and either refused cleanly or accepted, and at least
 * `minRefused` refused (a loader that accepts everything fails here).
 */
export async function expectCasesHandled(world: FuzzWorld, kind: Parameters<FuzzWorld['run']>[0], cases: number, minRefused: number): Promise<void> {
  const results = await world.run(kind, FUZZ_SEED, cases);
  expect(describeFailures(results)).toBe('');
  const counts = tally(results);
  expect(counts.inputsTried).toBe(cases);
  expect(counts.refusedCleanly + counts.accepted).toBe(cases);
  expect(counts.refusedCleanly).toBeGreaterThanOrEqual(minRefused);
}
