import { tf } from '../../src-main/clip/tf';

/**
 * Switches TensorFlow.js (one engine per process) to `name` and returns the way back to the backend
 * before: call it in the afterAll or finally that ends what needed `name`, so no later test runs on
 * a backend it did not ask for.
 */
export async function switchBackend(name: string): Promise<() => Promise<void>> {
  const before = tf.getBackend();
  if (!(await tf.setBackend(name))) throw new Error(`The tfjs backend "${name}" did not initialise.`);
  return async () => {
    if (before && tf.getBackend() !== before) await tf.setBackend(before);
  };
}
