/**
 * The contract's limits in words, for every entry point that is not a request through `dispatch`
 * (the CLI, importers, the store): they check values against the SAME zod schemas the app's requests
 * use, so a project written by the CLI or an import always reads back through the app.
 */
import type { z } from 'zod';
import { AppError } from './errors';
import { ClassName } from './schemas';

type Issue = z.core.$ZodIssue;
type PathKey = PropertyKey;

/** `groups[3].templates[12]`, or `fallback` for the value itself. */
export function issuePath(path: readonly PathKey[], fallback: string): string {
  if (path.length === 0) return fallback;
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join('');
}

function valueAt(root: unknown, path: readonly PathKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
const isDefaultMessage = (message: string) => /^(Too big|Too small|Invalid)/.test(message);

/**
 * One sentence for a zod issue: what is wrong with the value at its path and the limit. Custom messages
 * written in the schema (e.g. "a class name can have at most 200 characters") are kept.
 */
export function explainIssue(issue: Issue, root: unknown, where: string): string {
  const value = valueAt(root, issue.path);
  if (!isDefaultMessage(issue.message)) return `${where}: ${issue.message}`;
  if (issue.code === 'too_big' || issue.code === 'too_small') {
    const big = issue.code === 'too_big';
    const limit = Number(big ? (issue as { maximum: number | bigint }).maximum : (issue as { minimum: number | bigint }).minimum);
    const inclusive = (issue as { inclusive?: boolean }).inclusive !== false;
    const bound = big ? (inclusive ? 'at most' : 'less than') : inclusive ? 'at least' : 'more than';
    switch (issue.origin) {
      case 'array':
        return `${where} has ${plural(Array.isArray(value) ? value.length : 0, 'entry', 'entries')}; ${bound} ${limit.toLocaleString('en-US')} are allowed.`;
      case 'string':
        return `${where} is ${plural(typeof value === 'string' ? value.length : 0, 'character')} long; ${bound} ${limit.toLocaleString('en-US')} are allowed.`;
      default:
        return `${where} must be ${bound} ${limit} (got ${String(value)}).`;
    }
  }
  if (issue.code === 'invalid_type') {
    const expected = (issue as { expected: string }).expected;
    if (expected === 'int') return `${where} must be a whole number (got ${String(value)}).`;
    return `${where} must be ${expected === 'array' || expected === 'object' ? 'an' : 'a'} ${expected} (got ${value === undefined ? 'nothing' : JSON.stringify(value)?.slice(0, 60)}).`;
  }
  return `${where}: ${issue.message}`;
}

/**
 * Parses `value` with a contract schema; on failure throws AppError('invalid_input') whose message
 * explains the first issues, each path named through `name` (e.g. a CLI flag or a file and its field).
 */
export function checkWithContract<S extends z.ZodType>(
  schema: S,
  value: unknown,
  name: (path: string) => string,
  code: 'invalid_input' | 'bad_source' = 'invalid_input'
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const sentences = parsed.error.issues.slice(0, 3).map((issue) => explainIssue(issue, value, name(issuePath(issue.path, ''))));
  throw new AppError(code, sentences.join(' '));
}

/** Null when `label` is a valid class name (as typed in the app: trimmed, 1–200 characters), else why not. */
export function classNameProblem(label: string): string | null {
  const parsed = ClassName.safeParse(label);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0]!;
  const shown = label.length > 60 ? `${label.slice(0, 60)}…` : label;
  return issue.code === 'too_big' ? `label "${shown}" is ${label.trim().length} characters long; ${issue.message}` : issue.message;
}
