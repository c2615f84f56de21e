/** The training methods: one list for the contract, the trainer, the services, the CLI and the Train page. */

/** Methods that learn prompts: MoCoOp, its ablations, CoOp, KgCoOp and CoCoOp (its own trainer: the prompts depend on the image). */
export const PROMPT_METHODS = ['mocoop', 'mocoop-no-gate', 'mocoop-no-text', 'mocoop-moe', 'mocoop-gate', 'mocoop-text', 'coop', 'kgcoop', 'cocoop'] as const;
export type PromptMethod = (typeof PROMPT_METHODS)[number];

/** Every method a run can have: the prompt methods, zero-shot CLIP and the linear probe. */
export const TRAIN_METHODS = [...PROMPT_METHODS, 'zeroshot', 'linear-probe'] as const;
export type TrainMethod = (typeof TRAIN_METHODS)[number];

/** What the Train page calls each method (a method without a label fails the typecheck). */
export const METHOD_LABELS: Record<TrainMethod, string> = {
  mocoop: 'MoCoOp (mixture of prompt experts)',
  coop: 'CoOp (one learned prompt)',
  kgcoop: 'KgCoOp (CoOp kept near the hand-written prompt)',
  cocoop: 'CoCoOp (CoOp whose prompt adapts to each image; slower)',
  'mocoop-no-gate': 'MoCoOp without the gate loss (ablation)',
  'mocoop-no-text': 'MoCoOp without the text loss (ablation)',
  'mocoop-moe': 'MoCoOp +MoE only (Table 2 ablation: experts and router, L_ce only)',
  'mocoop-gate': 'MoCoOp +MoE +gate (Table 2 ablation: no text loss)',
  'mocoop-text': 'MoCoOp +MoE +gate +text (Table 2: the full method)',
  zeroshot: 'Zero-shot CLIP (no training)',
  'linear-probe': 'Linear probe (logistic regression)'
};
