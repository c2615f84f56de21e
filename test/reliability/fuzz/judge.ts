/**
 * How a fuzz case ended, judged the way a person would see it: refused with a sentence that names the
 * file or field (and is no raw error), accepted, or a failure — crashed (an error no loader wrote for
 * people, "Something went wrong", a hang), an unclear message, a bad input accepted as if it were good,
 * or data lost (the project or model registry changed by a refused input, or damaged).
 */
import { AppError, USER_FACING_ERRORS, describeSystemError } from '../../../src-main/contract/errors';

export type Verdict = 'refused' | 'accepted' | 'crashed' | 'unclear' | 'wronglyAccepted';

export interface CaseOutcome {
  verdict: Verdict;
  /** What the person was told (refusals, skipped rows), or what went wrong. */
  message?: string;
  /** Set when the input damaged or changed what it must not have (then the case failed whatever its verdict). */
  dataLost?: string;
}

export interface CaseResult extends CaseOutcome {
  kind: string;
  name: string;
  ms: number;
}

/** Text no message for people should contain: generic fallbacks, raw JavaScript errors, stack frames. */
export const UNCLEAR_TEXT =
  /unexpected error|Something went wrong|Maximum call stack|Cannot read propert|Cannot set propert|is not a function|is not iterable|is not defined|\[object Object\]|\n\s+at \S/i;

/** Why `message` is not a clear refusal naming one of `names`, or null when it is. */
export function messageProblem(message: string, names: readonly string[]): string | null {
  if (!message.trim()) return 'the message is empty';
  const bad = UNCLEAR_TEXT.exec(message);
  if (bad) return `the message contains "${bad[0].trim()}"`;
  if (!names.some((n) => message.includes(n))) return `the message names none of ${names.map((n) => JSON.stringify(n)).join(', ')}`;
  return null;
}

function clearOrUnclear(message: string, names: readonly string[]): CaseOutcome {
  const problem = messageProblem(message, names);
  return problem ? { verdict: 'unclear', message: `${problem}: ${message}` } : { verdict: 'refused', message };
}

/** A thrown error as the transports show it: a message written for people is judged; anything else crashed. */
export function judgeThrown(error: unknown, names: readonly string[]): CaseOutcome {
  if (error instanceof AppError || (error instanceof Error && USER_FACING_ERRORS.has(error.name))) return clearOrUnclear(error.message, names);
  const system = describeSystemError(error);
  if (system) return clearOrUnclear(system.message, names);
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { verdict: 'crashed', message: text.slice(0, 500) };
}

/** A refused request's envelope: "internal" ("Something went wrong") is a crash, any other code a refusal to judge. */
export function judgeEnvelopeError(error: { code: string; message: string }, names: readonly string[]): CaseOutcome {
  if (error.code === 'internal') return { verdict: 'crashed', message: error.message.slice(0, 500) };
  return clearOrUnclear(error.message, names);
}

/** Rejects with a "hang" after `ms` (a case that never ends is a failure, not a stuck test run). */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new HangError(`${what} did not finish within ${ms} ms`)), ms)))
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export class HangError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HangError';
  }
}

export interface Tally {
  inputsTried: number;
  refusedCleanly: number;
  accepted: number;
  crashed: number;
  unclearMessage: number;
  wronglyAccepted: number;
  dataLost: number;
}

export function tally(results: readonly CaseResult[]): Tally {
  const count = (v: Verdict) => results.filter((r) => r.verdict === v).length;
  return {
    inputsTried: results.length,
    refusedCleanly: count('refused'),
    accepted: count('accepted'),
    crashed: count('crashed'),
    unclearMessage: count('unclear'),
    wronglyAccepted: count('wronglyAccepted'),
    dataLost: results.filter((r) => r.dataLost).length
  };
}

/** The failed cases in a few readable lines (for an assertion message or the bench's log). */
export function describeFailures(results: readonly CaseResult[]): string {
  return results
    .filter((r) => r.verdict === 'crashed' || r.verdict === 'unclear' || r.verdict === 'wronglyAccepted' || r.dataLost)
    .map((r) => `${r.kind} ${r.name}: ${r.verdict}${r.dataLost ? ` (data lost: ${r.dataLost})` : ''} — ${r.message ?? ''}`)
    .join('\n');
}
