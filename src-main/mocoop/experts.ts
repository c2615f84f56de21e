/**
 * Prompt experts as token layouts: expert j is the first template of group j, split at `{}`; every
 * BPE token before `{}` is a learnable prefix vector and every token after it a suffix vector (BPE
 * tokens are counted, not words). For class a the sequence is [SOT] prefix class-tokens suffix [EOT].
 */
import type { ClipTokenizer } from '../clip/tokenizer';

export interface ExpertTemplate {
  template: string;
  prefixIds: number[];
  suffixIds: number[];
}

export class PromptLayoutError extends Error {}

export function expertTemplate(tokenizer: ClipTokenizer, template: string): ExpertTemplate {
  const parts = template.split('{}');
  if (parts.length !== 2) throw new PromptLayoutError(`Template "${template}" must contain {} exactly once (where the class name goes).`);
  return { template, prefixIds: tokenizer.encode(parts[0]!), suffixIds: tokenizer.encode(parts[1]!) };
}

export function classTokenIds(tokenizer: ClipTokenizer, names: string[], underscoresAsSpaces = true): number[][] {
  return names.map((name) => {
    const ids = tokenizer.encode(underscoresAsSpaces ? name.replace(/_/g, ' ') : name);
    if (ids.length === 0) throw new PromptLayoutError(`The class name "${name}" has no tokens; give it a name with letters or digits.`);
    return ids;
  });
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
      const row = [sot, ...e.prefixIds, ...cls, ...e.suffixIds, eotId];
      if (row.length > contextLength) {
        throw new PromptLayoutError(`"${e.template}" with a class of ${cls.length} tokens needs ${row.length} tokens; CLIP reads at most ${contextLength}. Shorten the template or the class name.`);
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
