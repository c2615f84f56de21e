/**
 * Published training schedules, by name. MoCoOp's authors follow LASP and give one of these per data set
 * in their released configs (SGD, momentum 0.9, weight decay 5e-4, a constant 1e-5 warm-up, then a
 * cosine schedule restarted after the warm-up: Dassl's WARMUP_RECOUNT); CoOp has its own. Plain data,
 * shared by the services, the CLI and the Train page.
 */

export const SCHEDULE_NAMES = ['lasp-25', 'lasp-50', 'lasp-300', 'batch1-10', 'coop', 'kgcoop', 'cocoop'] as const;
export type ScheduleName = (typeof SCHEDULE_NAMES)[number];

export interface ScheduleSpec {
  name: ScheduleName;
  /** One line for the Train page and the CLI's help. */
  explanation: string;
  /** Epochs, or `null` for CoOp's epochs by shots (see `scheduleFor`). */
  epochs: number | null;
  warmupEpochs: number;
  lr: number;
  batchSize: number;
  /** The text-loss weight λ2 this schedule uses, when it is not the paper's default of 5. */
  lambda2?: number;
  /** The data sets the released configs train with it. */
  datasets: string[];
}

export const SCHEDULES: readonly ScheduleSpec[] = [
  {
    name: 'lasp-25',
    explanation: '25 epochs (3 warm-up), batch 32, lr 0.032: the released configs for Aircraft, Flowers, Pets, Cars and SUN397.',
    epochs: 25,
    warmupEpochs: 3,
    lr: 0.032,
    batchSize: 32,
    datasets: ['FGVCAircraft', 'OxfordFlowers', 'OxfordPets', 'StanfordCars', 'SUN397']
  },
  {
    name: 'lasp-50',
    explanation: '50 epochs (5 warm-up), batch 32, lr 0.032, text-loss weight λ2 = 10: Caltech101, DTD and UCF101.',
    epochs: 50,
    warmupEpochs: 5,
    lr: 0.032,
    batchSize: 32,
    lambda2: 10,
    datasets: ['Caltech101', 'DescribableTextures', 'UCF101']
  },
  {
    name: 'lasp-300',
    explanation: '300 epochs (7 warm-up), batch 32, lr 0.032: EuroSAT.',
    epochs: 300,
    warmupEpochs: 7,
    lr: 0.032,
    batchSize: 32,
    datasets: ['EuroSAT']
  },
  {
    name: 'batch1-10',
    explanation: '10 epochs (1 warm-up), batch 1, lr 0.002: Food101 and ImageNet (many classes).',
    epochs: 10,
    warmupEpochs: 1,
    lr: 0.002,
    batchSize: 1,
    datasets: ['Food101', 'ImageNet']
  },
  {
    name: 'coop',
    explanation: "CoOp's own: lr 0.002, batch 32, 1 warm-up epoch; 50 epochs for 1–2 shots, 100 for 4–8, 200 for 16.",
    epochs: null,
    warmupEpochs: 1,
    lr: 0.002,
    batchSize: 32,
    datasets: []
  },
  {
    name: 'kgcoop',
    explanation: "KgCoOp's own (its released base-to-new config): 100 epochs (1 warm-up), batch 128, lr 0.002.",
    epochs: 100,
    warmupEpochs: 1,
    lr: 0.002,
    batchSize: 128,
    datasets: []
  },
  {
    name: 'cocoop',
    explanation: "CoCoOp's own (its released base-to-new config): 10 epochs (1 warm-up), batch 1, lr 0.002.",
    epochs: 10,
    warmupEpochs: 1,
    lr: 0.002,
    batchSize: 1,
    datasets: []
  }
];

/** The constant learning rate of the warm-up epochs (Dassl's WARMUP_CONS_LR). */
export const WARMUP_LR = 1e-5;

/** CoOp's epochs by shots per class: 50 for 1–2, 100 for 4–8, 200 for 16 (and for hand-picked sets). */
export function coopEpochs(shots: number | null): number {
  const k = shots ?? 16;
  if (k <= 2) return 50;
  if (k <= 8) return 100;
  return 200;
}

/** The schedule a method trains with when none is picked: lasp-25 for MoCoOp (and its ablations), CoOp's own for CoOp, KgCoOp's for KgCoOp. */
/**
 * The schedule a run gets when none is named: CoOp's and KgCoOp's own; for MoCoOp the authors' schedule
 * of the data set the project is recognised as (see recogniseDataset), else lasp-25.
 */
export function defaultSchedule(method: string, dataset?: string | null): ScheduleName {
  if (method === 'coop' || method === 'kgcoop' || method === 'cocoop') return method;
  return (dataset ? SCHEDULES.find((s) => s.datasets.includes(dataset))?.name : undefined) ?? 'lasp-25';
}

export function isScheduleName(name: unknown): name is ScheduleName {
  return typeof name === 'string' && (SCHEDULE_NAMES as readonly string[]).includes(name);
}

/** A schedule's settings for a few-shot set of `shots` per class (null: hand-picked). */
export function scheduleFor(
  name: ScheduleName,
  shots: number | null
): { epochs: number; warmupEpochs: number; lr: number; batchSize: number; lambda2?: number } {
  const spec = SCHEDULES.find((s) => s.name === name)!;
  return {
    epochs: spec.epochs ?? coopEpochs(shots),
    warmupEpochs: spec.warmupEpochs,
    lr: spec.lr,
    batchSize: spec.batchSize,
    ...(spec.lambda2 !== undefined ? { lambda2: spec.lambda2 } : {})
  };
}
