/** `mocoop runs`: every run with its method, status and accuracy. */
import { type ParsedArgs, checkFlags } from '../args';
import { print, openTraining } from '../common';

export async function runsCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['json', 'debug']);
  const { app, training } = openTraining(args);
  try {
    const runs = training.training.runs().map((r) => ({
      id: r.id,
      method: r.method,
      status: r.status,
      created_at: r.createdAt,
      accuracy: (r.metrics?.accuracy as number | undefined) ?? null,
      base_accuracy: (r.metrics?.base_accuracy as number | null | undefined) ?? null,
      new_accuracy: (r.metrics?.new_accuracy as number | null | undefined) ?? null,
      h: (r.metrics?.h as number | null | undefined) ?? null,
      seed: r.settings.seed ?? null,
      name: r.name,
      note: r.note
    }));
    const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);
    print(
      args.flags.has('json'),
      { runs },
      runs
        .map(
          (r) =>
            `${r.id}${r.name ? ` "${r.name}"` : ''}\t${r.method}\t${r.status}\tacc ${pct(r.accuracy)}\tbase ${pct(r.base_accuracy)}\tnew ${pct(r.new_accuracy)}\tH ${pct(r.h)}`
        )
        .join('\n') || 'No runs yet.'
    );
  } finally {
    app.dispose();
  }
}
