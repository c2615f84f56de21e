/**
 * Training for the app: few-shot sets, template groups, and runs trained in the compute worker
 * (off the app's event loop) with a progress event per step. Cancelling kills the worker at once;
 * the run keeps its last checkpoint and can be resumed.
 */
import type { Handlers } from '../contract/dispatch';
import { AppError } from '../contract/errors';
import type { TrainJob } from '../compute/protocol';
import type { ProjectStore } from '../store/project-store';
import { TrainingStore } from '../store/training-store';
import type { ClipServices } from './clip-services';
import type { EventBus } from './events';
import { TrainingService } from './training-service';

type Names = 'fewshot.createManual' | 'train.start' | 'train.resume' | 'train.cancel' | 'runs.list' | 'fewshot.create' | 'fewshot.list' | 'templates.groups' | 'templates.setGroups';

export class TrainServices {
  private active: { runId: string | null; controller: AbortController } | null = null;

  constructor(
    private readonly clip: ClipServices,
    private readonly events: EventBus,
    private readonly project: () => ProjectStore
  ) {}

  private async launch(modelId: string, job: TrainJob): Promise<{ runId: string }> {
    const store = this.project();
    const model = this.clip.models.get(modelId);
    if (this.active) throw new AppError('busy', `Run ${this.active.runId ?? ''} is training. Wait for it or cancel it first.`);
    const controller = new AbortController();
    const active: { runId: string | null; controller: AbortController } = { runId: null, controller };
    this.active = active;
    return new Promise((resolve, reject) => {
      this.clip.compute
        .train(
          store.file,
          model,
          job,
          (runId) => {
            active.runId = runId;
            resolve({ runId });
          },
          (event) => active.runId && this.events.emit('train.progress', { runId: active.runId, ...event }),
          controller.signal
        )
        .then(() => {
          if (active.runId) this.events.emit('train.finished', { runId: active.runId, status: 'done' });
        })
        .catch((error: Error) => {
          if (!active.runId) return reject(error);
          if (controller.signal.aborted) {
            new TrainingStore(store).finishRun(active.runId, 'cancelled', null, 'cancelled by the user; resume it to continue');
            this.events.emit('train.finished', { runId: active.runId, status: 'cancelled' });
          } else this.events.emit('train.finished', { runId: active.runId, status: 'failed', error: error.message });
        })
        .finally(() => {
          if (this.active === active) this.active = null;
          this.events.emit('project.changed', { reason: 'runs' });
        });
    });
  }

  cancel(runId: string): boolean {
    if (!this.active || this.active.runId !== runId) return false;
    this.active.controller.abort();
    return true;
  }

  handlers(): Pick<Handlers, Names> {
    const training = () => new TrainingService(this.project());
    return {
      'train.start': ({ modelId, ...job }) => this.launch(modelId, job),
      'train.resume': ({ runId }) => this.launch(training().training.run(runId).modelId, { method: 'mocoop', resume: runId }),
      'train.cancel': ({ runId }) => ({ cancelled: this.cancel(runId) }),
      'runs.list': () =>
        training()
          .training.runs()
          .map((r) => ({
            id: r.id,
            method: r.method,
            status: r.status,
            createdAt: r.createdAt,
            finishedAt: r.finishedAt,
            error: r.error,
            settings: r.settings,
            accuracy: (r.metrics?.accuracy as number | undefined) ?? null,
            h: (r.metrics?.h as number | null | undefined) ?? null
          })),
      'fewshot.create': ({ k, seed, baseNew, name }) => training().createFewShotSet(k, seed, baseNew, name),
      'fewshot.list': () => training().training.fewShotSets(),
      'fewshot.createManual': ({ name, imageIds, newClassIds }) => training().createManualSet(name, imageIds, newClassIds),
      'templates.groups': () => training().training.templateGroups(),
      'templates.setGroups': ({ groups }) => training().training.replaceTemplateGroups(groups)
    };
  }

  dispose(): void {
    this.active?.controller.abort();
  }
}
