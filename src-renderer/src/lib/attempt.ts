import { toasts } from '../state/toasts.svelte';

export interface AttemptOptions<T> {
  /** Called with true before the work starts and with false once it has ended, however it ended. */
  busy?: (on: boolean) => void;
  /** A toast once the work has succeeded (a function: made from its result). */
  success?: string | ((result: T) => string);
}

/**
 * Runs `work`; when it fails, the error is shown as a toast and the answer is undefined (nothing is thrown).
 * For a method that is "ask the server, show what went wrong": anything more on failure stays with the caller.
 */
export async function attempt<T>(work: () => Promise<T>, options: AttemptOptions<T> = {}): Promise<T | undefined> {
  const { busy, success } = options;
  busy?.(true);
  try {
    const result = await work();
    if (success !== undefined) toasts.show(typeof success === 'function' ? success(result) : success);
    return result;
  } catch (error) {
    toasts.error(error);
    return undefined;
  } finally {
    busy?.(false);
  }
}
