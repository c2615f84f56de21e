import { type Envelope, type Output, type ParsedInput, type RequestName, isRequestName, requests } from './index';
import { AppError, describeZodError, isDatabaseBusy } from './errors';

export type Handlers = { [K in RequestName]: (input: ParsedInput<K>) => Promise<Output<K>> | Output<K> };

/** Validates a request at the boundary, runs its handler and wraps the outcome; shared by every transport. */
export async function dispatch(handlers: Handlers, name: unknown, rawInput: unknown, log: (e: unknown) => void = console.error): Promise<Envelope<unknown>> {
  if (!isRequestName(name)) {
    return { ok: false, error: { code: 'not_found', message: `Unknown request "${String(name)}".` } };
  }
  const spec = requests[name];
  const parsed = spec.input.safeParse(rawInput ?? undefined);
  if (!parsed.success) {
    return { ok: false, error: { code: 'invalid_input', message: describeZodError(parsed.error, name) } };
  }
  try {
    const handler = handlers[name] as (input: unknown) => unknown;
    const value = await handler(parsed.data);
    return { ok: true, value: spec.output.parse(value) };
  } catch (error) {
    if (error instanceof AppError) return { ok: false, error: { code: error.code, message: error.message } };
    if (isDatabaseBusy(error)) {
      return { ok: false, error: { code: 'busy', message: 'Another program (an import, a training run or another window of the CLI) is writing this project; nothing was changed. Try again when it has finished.' } };
    }
    log(error);
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: { code: 'internal', message: `Something went wrong: ${message}` } };
  }
}
