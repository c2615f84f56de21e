import { type Envelope, type Output, type ParsedInput, type RequestName, isRequestName, requests } from './index';
import { AppError, USER_FACING_ERRORS, describeSystemError, describeZodError } from './errors';
import { type RequestContext, runWithContext } from './request-context';

export type Handlers = { [K in RequestName]: (input: ParsedInput<K>) => Promise<Output<K>> | Output<K> };

/** Validates a request at the boundary, runs its handler and wraps the outcome; shared by every transport. */
export async function dispatch(
  handlers: Handlers,
  name: unknown,
  rawInput: unknown,
  log: (e: unknown) => void = console.error,
  /** The open project's file, named in messages about the disk (busy, read-only, full). */
  projectFile?: () => string | undefined,
  /** Who asked (the window or tab): label history and change events are per client. */
  context: RequestContext = { clientId: null }
): Promise<Envelope<unknown>> {
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
    const value = await runWithContext(context, () => handler(parsed.data));
    return { ok: true, value: spec.output.parse(value) };
  } catch (error) {
    if (error instanceof AppError) return { ok: false, error: { code: error.code, message: error.message } };
    // The disk or the database file, not a bug: busy, read-only, full — said in words, not "Something went wrong".
    const system = describeSystemError(error, projectFile?.());
    if (system) return { ok: false, error: { code: system.code, message: system.message } };
    if (error instanceof Error && USER_FACING_ERRORS.has(error.name)) return { ok: false, error: { code: 'bad_source', message: error.message } };
    log(error);
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: { code: 'internal', message: `Something went wrong: ${message}` } };
  }
}
