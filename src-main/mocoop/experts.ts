/**
 * Prompt experts as token layouts: expert j is the first template of group j, split at `{}`; every
 * BPE token before `{}` is a learnable prefix vector and every token after it a suffix vector (BPE
 * tokens are counted, not words). For class a the sequence is [SOT] prefix class-tokens suffix [EOT].
 */
import { type ClipTokenizer, preTokenize } from '../clip/tokenizer';

export interface ExpertTemplate {
  template: string;
  /** The prompt as text (what the tokenisation check fills): placeholders written out, the fixed-tail mark removed. */
  text: string;
  prefixIds: number[];
  suffixIds: number[];
  /** Tokens after the learned suffix that stay fixed (CoOp's "."): part of every sequence, never learned. */
  fixedSuffixIds: number[];
  /** The prefix vectors start random (CoOp's few-shot init: "X" placeholders, N(0, 0.02²) vectors) instead of from the template's words. */
  randomPrefix: boolean;
}

export class PromptLayoutError extends Error {}

/** Marks the start of a template's fixed tail: "a photo of a {}||." learns "a photo of a" and keeps "." fixed. */
export const FIXED_TAIL = '||';
const RANDOM_CONTEXT = /^\{ctx:(\d+)\}\s*/;

/**
 * Expert j's layout from its template. Besides plain templates ("a photo of a {}.": every word around
 * {} learned), the prompt-learning baselines write their published layouts: "{ctx:16} {}||." (16
 * randomly initialised vectors, the class, a fixed ".") and "a photo of a {}||." (4 vectors from
 * "a photo of a", the class, a fixed ".").
 */
export function expertTemplate(tokenizer: ClipTokenizer, template: string): ExpertTemplate {
  const tail = template.split(FIXED_TAIL);
  if (tail.length > 2) throw new PromptLayoutError(`Template "${template}" marks a fixed tail (${FIXED_TAIL}) more than once.`);
  let learned = tail[0]!;
  const fixed = tail[1] ?? '';
  const random = RANDOM_CONTEXT.exec(learned);
  if (random) {
    const n = Number(random[1]);
    if (n < 1 || n > 64) throw new PromptLayoutError(`Template "${template}" asks for ${n} context vectors; give 1 to 64.`);
    learned = `${Array.from({ length: n }, () => 'X').join(' ')} ${learned.slice(random[0].length)}`;
  }
  const parts = learned.split('{}');
  if (parts.length !== 2 || fixed.includes('{}'))
    throw new PromptLayoutError(`Template "${template}" must contain {} exactly once (where the class name goes).`);
  return {
    template,
    text: learned + fixed,
    prefixIds: tokenizer.encode(parts[0]!),
    suffixIds: tokenizer.encode(parts[1]!),
    fixedSuffixIds: fixed ? tokenizer.encode(fixed) : [],
    randomPrefix: random !== null
  };
}

/** A template as plain text (for hand-written prompt features): placeholders written out, the fixed-tail mark removed. */
export function templateText(template: string): string {
  const random = RANDOM_CONTEXT.exec(template);
  const body = random ? `${Array.from({ length: Number(random[1]) }, () => 'X').join(' ')} ${template.slice(random[0].length)}` : template;
  return body.split(FIXED_TAIL).join('');
}

export function classTokenIds(tokenizer: ClipTokenizer, names: string[], underscoresAsSpaces = true): number[][] {
  return names.map((name) => {
    const ids = tokenizer.encode(underscoresAsSpaces ? name.replace(/_/g, ' ') : name);
    if (ids.length === 0) throw new PromptLayoutError(`The class name "${name}" has no tokens; give it a name with letters or digits.`);
    return ids;
  });
}

/** The words of a text as CLIP's tokenizer splits it before BPE (for messages only). */
function words(text: string): string[] {
  return preTokenize(text.toLowerCase().replace(/\s+/g, ' ').trim());
}

/**
 * The tokenisation check at expert build: the template filled with the class name must tokenise to
 * exactly the template's prefix tokens, the name's tokens and its suffix tokens. Otherwise the learned
 * context vectors would not sit where the template's words are (a name glued to the text around {}
 * merges into other BPE tokens: "{}s" with "rose" reads "roses"), and the expert would be initialised
 * from a different prompt than the one written. Refuses, naming the template and the class.
 */
export function checkExpertTokens(tokenizer: ClipTokenizer, expert: ExpertTemplate, className: string, classIds: number[]): void {
  const filled = expert.text.replace('{}', className);
  const ids = tokenizer.encode(filled);
  const parts = [...expert.prefixIds, ...classIds, ...expert.suffixIds, ...expert.fixedSuffixIds];
  if (ids.length === parts.length && ids.every((id, i) => id === parts[i])) return;
  const [before, after] = expert.text.split('{}') as [string, string];
  const whole = words(filled);
  const split = [...words(before), ...words(className), ...words(after)];
  let at = 0;
  while (at < whole.length && at < split.length && whole[at] === split[at]) at++;
  const shown = (list: string[]) =>
    list
      .slice(at, at + 3)
      .map((w) => `"${w}"`)
      .join(' ');
  const where =
    at < whole.length || at < split.length
      ? ` (the filled text reads ${shown(whole) || 'nothing more'} where the template's words and the name read ${shown(split) || 'nothing more'})`
      : '';
  throw new PromptLayoutError(
    `Template "${expert.template}" with the class "${className}" does not tokenise as the template's words around the class name: "${filled}" gives ${ids.length} tokens, the prefix, name and suffix ${parts.length}${where}. ` +
      "Its learned context would not sit on the template's words. Put a space between {} and the text next to it, or rename the class."
  );
}

/** Checks every expert with every class name (see `checkExpertTokens`). */
export function checkExpertsTokens(tokenizer: ClipTokenizer, experts: ExpertTemplate[], names: string[], classIds: number[][]): void {
  for (const expert of experts) names.forEach((name, a) => checkExpertTokens(tokenizer, expert, name, classIds[a]!));
}

/** Every (expert, class) sequence, row r = j * classes + a. */
export interface SequenceLayout {
  experts: number;
  classes: number;
  ids: number[][];
  eot: number[];
  /** Position of the first suffix token in each row. */
  suffixStart: number[];
  prefixLength: number[];
  suffixLength: number[];
}

export function layoutSequences(experts: ExpertTemplate[], classIds: number[][], sot: number, eotId: number, contextLength = 77): SequenceLayout {
  const ids: number[][] = [];
  const eot: number[] = [];
  const suffixStart: number[] = [];
  experts.forEach((e) => {
    classIds.forEach((cls) => {
      const row = [sot, ...e.prefixIds, ...cls, ...e.suffixIds, ...e.fixedSuffixIds, eotId];
      if (row.length > contextLength) {
        throw new PromptLayoutError(
          `"${e.template}" with a class of ${cls.length} tokens needs ${row.length} tokens; CLIP reads at most ${contextLength}. Shorten the template or the class name.`
        );
      }
      ids.push(row);
      eot.push(row.length - 1);
      suffixStart.push(1 + e.prefixIds.length + cls.length);
    });
  });
  return {
    experts: experts.length,
    classes: classIds.length,
    ids,
    eot,
    suffixStart,
    prefixLength: experts.map((e) => e.prefixIds.length),
    suffixLength: experts.map((e) => e.suffixIds.length)
  };
}
