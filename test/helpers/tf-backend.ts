import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { tf } from '../../src-main/clip/tf';

/**
 * Switches TensorFlow.js (one engine per process) to `name` and returns the way back to the backend
 * before: call it in the afterAll or finally that ends what needed `name`, so no later test runs on
 * a backend it did not ask for.
 */
export async function switchBackend(name: string): Promise<() => Promise<void>> {
  const before = tf.getBackend();
  if (!(await tf.setBackend(name))) throw new Error(`The tfjs backend "${name}" did not initialise.`);
  await tf.ready();
  return async () => {
    if (before && tf.getBackend() !== before) await tf.setBackend(before);
  };
}

/** The tfjs backend `name` for the enclosing describe: switched in beforeAll (before the hooks registered after this call), switched back in afterAll. */
export function useBackend(name: string): void {
  let restore: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    restore = await switchBackend(name);
  });
  afterAll(async () => {
    await restore?.();
  });
}

/** The tfjs backend `name` for the rest of the running test; the one before comes back when the test finishes. */
export async function backendForTest(name: string): Promise<void> {
  onTestFinished(await switchBackend(name));
}
