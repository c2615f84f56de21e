/** `mocoop models list | download | import`: installed CLIP models. */
import { type ParsedArgs, UsageError, checkFlags, stringFlag } from '../args';
import { services, print, requirePositional } from '../common';

export async function modelsCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['name', 'json', 'debug', 'endpoint']);
  const json = args.flags.has('json');
  const sub = args.positional[1];
  const app = services();
  try {
    if (sub === 'list') {
      const models = app.clip.models.list();
      print(
        json,
        { models },
        models.length
          ? models.map((m) => `${m.id}\t${m.available ? m.summary : 'UNAVAILABLE: ' + m.problem}\t${m.dir}`).join('\n')
          : 'No models installed. Run "mocoop models download" or "mocoop models import DIR".'
      );
    } else if (sub === 'import') {
      const model = await app.clip.models.register(requirePositional(args, 2, 'the model folder'), { source: 'import', name: stringFlag(args, 'name') });
      print(json, model, `Imported ${model.name} as ${model.id} (${model.summary})`);
    } else if (sub === 'download') {
      const repo = args.positional[2] ?? 'openai/clip-vit-base-patch16';
      const interactive = !json && process.stderr.isTTY;
      app.events.subscribe((name, payload) => {
        if (name !== 'models.downloadProgress' || !interactive) return;
        const p = payload as { file: string; bytesDone: number; bytesTotal: number; bytesPerSecond: number };
        process.stderr.write(
          `\r${p.file}: ${((100 * p.bytesDone) / Math.max(1, p.bytesTotal)).toFixed(1)}% (${(p.bytesPerSecond / 2 ** 20).toFixed(1)} MB/s)   `
        );
      });
      const id = `cli-${Date.now()}`;
      process.once('SIGINT', () => app.handlers()['models.cancelDownload']({ downloadId: id }));
      const model = await app.clip.download(id, repo, stringFlag(args, 'endpoint'));
      if (interactive) process.stderr.write('\n');
      print(json, model, `Downloaded ${repo} as ${model.id} into ${model.dir}`);
    } else throw new UsageError(`Unknown models command "${sub ?? ''}". Use: models list | download [REPO] | import DIR.`);
  } finally {
    app.dispose();
  }
}
