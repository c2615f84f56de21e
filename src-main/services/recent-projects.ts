import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { RecentProject } from '../contract';

const RecentFile = z.array(z.object({ path: z.string(), name: z.string(), openedAt: z.string() }));
const LIMIT = 12;

/** The recent-projects list, kept as a small JSON file in the app's configuration folder. */
export class RecentProjects {
  private readonly file: string;

  constructor(configDir: string) {
    this.file = path.join(configDir, 'recent-projects.json');
  }

  private read(): z.infer<typeof RecentFile> {
    try {
      const parsed = RecentFile.safeParse(JSON.parse(fs.readFileSync(this.file, 'utf8')));
      return parsed.success ? parsed.data : [];
    } catch {
      return [];
    }
  }

  private write(entries: z.infer<typeof RecentFile>): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(entries, null, 2));
    fs.renameSync(tmp, this.file);
  }

  list(): RecentProject[] {
    return this.read().map((e) => ({ ...e, exists: fs.existsSync(e.path) }));
  }

  touch(projectPath: string, name: string): void {
    const entries = this.read().filter((e) => e.path !== projectPath);
    entries.unshift({ path: projectPath, name, openedAt: new Date().toISOString() });
    this.write(entries.slice(0, LIMIT));
  }

  forget(projectPath: string): RecentProject[] {
    this.write(this.read().filter((e) => e.path !== projectPath));
    return this.list();
  }
}
