/**
 * Versioned schema migrations. The version lives in SQLite's `user_version`; each step runs in one
 * transaction, so an interrupted upgrade leaves the file at its previous version.
 * Append only: never edit a migration that has shipped.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** One trigger per (table, event): the change takes the counter's next number as the scope's revision (version 7). */
function revisionTriggers(list: [table: string, event: string, scope: string][]): string {
  return list
    .map(([table, event, scope]) => {
      const name = `rev_${table}_${event.split(' ')[0]!.toLowerCase()}`;
      return `CREATE TRIGGER ${name} AFTER ${event} ON ${table} BEGIN
        UPDATE revisions SET value = value + 1 WHERE scope = '#';
        UPDATE revisions SET value = (SELECT value FROM revisions WHERE scope = '#') WHERE scope = ${scope};
      END;`;
    })
    .join('\n');
}

export const migrations: Migration[] = [
  {
    version: 1,
    description: 'projects, classes, images with thumbnails',
    sql: `
      CREATE TABLE project_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE classes (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        position INTEGER NOT NULL,
        created_at TEXT NOT NULL DEFAULT (datetime('now'))
      );
      CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        file_name TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        label_id INTEGER REFERENCES classes(id) ON DELETE SET NULL,
        split TEXT NOT NULL DEFAULT 'train' CHECK (split IN ('train', 'val', 'test')),
        source TEXT NOT NULL,
        missing INTEGER NOT NULL DEFAULT 0 CHECK (missing IN (0, 1)),
        imported_at TEXT NOT NULL DEFAULT (datetime('now'))
      );
      CREATE INDEX images_label ON images(label_id);
      CREATE TABLE thumbnails (
        image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
        mime TEXT NOT NULL,
        data BLOB NOT NULL
      );
    `
  },
  {
    version: 2,
    description: 'undoable label history, import log with skipped files',
    sql: `
      CREATE TABLE label_ops (
        id INTEGER PRIMARY KEY,
        description TEXT NOT NULL,
        changes TEXT NOT NULL,
        undone INTEGER NOT NULL DEFAULT 0 CHECK (undone IN (0, 1)),
        created_at TEXT NOT NULL DEFAULT (datetime('now'))
      );
      CREATE TABLE imports (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        imported INTEGER NOT NULL,
        finished_at TEXT NOT NULL DEFAULT (datetime('now'))
      );
      CREATE TABLE import_skips (
        id INTEGER PRIMARY KEY,
        import_id TEXT NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        reason TEXT NOT NULL
      );
      CREATE INDEX images_split ON images(split);
      CREATE INDEX images_file_name ON images(file_name);
    `
  },
  {
    version: 3,
    description: 'image feature cache per (model, content hash, view)',
    sql: `
      CREATE TABLE image_features (
        model_id TEXT NOT NULL,
        hash TEXT NOT NULL,
        view INTEGER NOT NULL DEFAULT 0,
        dim INTEGER NOT NULL,
        data BLOB NOT NULL,
        created_at TEXT NOT NULL DEFAULT (datetime('now')),
        PRIMARY KEY (model_id, hash, view)
      ) WITHOUT ROWID;
    `
  },
  {
    version: 4,
    description: 'template groups, few-shot sets, training runs and checkpoints',
    sql: `
      CREATE TABLE template_groups (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        position INTEGER NOT NULL
      );
      CREATE TABLE templates (
        id INTEGER PRIMARY KEY,
        group_id INTEGER NOT NULL REFERENCES template_groups(id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        position INTEGER NOT NULL
      );
      CREATE TABLE fewshot_sets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        k INTEGER,
        seed INTEGER,
        base_new INTEGER NOT NULL DEFAULT 0 CHECK (base_new IN (0, 1)),
        frozen INTEGER NOT NULL DEFAULT 0 CHECK (frozen IN (0, 1)),
        created_at TEXT NOT NULL DEFAULT (datetime('now'))
      );
      CREATE TABLE fewshot_members (
        set_id INTEGER NOT NULL REFERENCES fewshot_sets(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        PRIMARY KEY (set_id, image_id)
      ) WITHOUT ROWID;
      CREATE TABLE fewshot_classes (
        set_id INTEGER NOT NULL REFERENCES fewshot_sets(id) ON DELETE CASCADE,
        class_id INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('base', 'new')),
        PRIMARY KEY (set_id, class_id)
      ) WITHOUT ROWID;
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        method TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'done', 'cancelled', 'failed')),
        settings TEXT NOT NULL,
        backend TEXT NOT NULL,
        model_id TEXT NOT NULL,
        set_id INTEGER REFERENCES fewshot_sets(id),
        metrics TEXT,
        expert_table BLOB,
        error TEXT,
        heartbeat_at REAL,
        pid INTEGER,
        created_at TEXT NOT NULL DEFAULT (datetime('now')),
        finished_at TEXT
      );
      CREATE TABLE run_steps (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        step INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (run_id, step)
      ) WITHOUT ROWID;
      CREATE TABLE run_predictions (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        predicted_class_id INTEGER NOT NULL,
        correct INTEGER NOT NULL CHECK (correct IN (0, 1)),
        data TEXT NOT NULL,
        PRIMARY KEY (run_id, image_id)
      ) WITHOUT ROWID;
      CREATE TABLE checkpoints (
        run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        epoch INTEGER NOT NULL,
        state BLOB NOT NULL,
        created_at TEXT NOT NULL DEFAULT (datetime('now'))
      ) WITHOUT ROWID;
    `
  },
  {
    version: 5,
    description: 'few-shot sets keep the labels their images had when a run first used them',
    sql: `
      ALTER TABLE fewshot_members ADD COLUMN label_id INTEGER REFERENCES classes(id) ON DELETE SET NULL;
      UPDATE fewshot_members SET label_id = (SELECT label_id FROM images WHERE images.id = fewshot_members.image_id)
        WHERE set_id IN (SELECT id FROM fewshot_sets WHERE frozen = 1);
    `
  },
  {
    version: 6,
    description: "derived expert tables: a run's table extended with classes named after training (open vocabulary), beside the original",
    sql: `
      CREATE TABLE run_class_tables (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        classes TEXT NOT NULL,
        added TEXT NOT NULL,
        source TEXT,
        expert_table BLOB NOT NULL,
        created_at TEXT NOT NULL DEFAULT (datetime('now')),
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;
    `
  },
  {
    version: 7,
    description:
      'revisions of template groups, few-shot sets, classes and settings (stale saves from another window are refused); undo per window; stored template measurements',
    // Triggers keep the revisions, so every writer (app, CLI, another window) moves them. Every change
    // takes the next number of one counter ('#'): a revision is never reused, even by a recreated set.
    // Freezing a set (label_id, frozen) is not an edit of it and does not move its revision.
    sql: `
      CREATE TABLE revisions (scope TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO revisions (scope, value) VALUES ('#', 1), ('templates', 1), ('classes', 1), ('settings', 1);
      INSERT INTO revisions (scope, value) SELECT 'fewshot:' || id, 1 FROM fewshot_sets;
${revisionTriggers([
  ['template_groups', 'INSERT', "'templates'"],
  ['template_groups', 'UPDATE', "'templates'"],
  ['template_groups', 'DELETE', "'templates'"],
  ['templates', 'INSERT', "'templates'"],
  ['templates', 'UPDATE', "'templates'"],
  ['templates', 'DELETE', "'templates'"],
  ['classes', 'INSERT', "'classes'"],
  ['classes', 'UPDATE', "'classes'"],
  ['classes', 'DELETE', "'classes'"],
  ['project_meta', 'INSERT', "'settings'"],
  ['project_meta', 'UPDATE', "'settings'"],
  ['project_meta', 'DELETE', "'settings'"],
  ['fewshot_sets', 'UPDATE OF name, k, seed, base_new', "'fewshot:' || NEW.id"],
  ['fewshot_members', 'INSERT', "'fewshot:' || NEW.set_id"],
  ['fewshot_members', 'DELETE', "'fewshot:' || OLD.set_id"],
  ['fewshot_classes', 'INSERT', "'fewshot:' || NEW.set_id"],
  ['fewshot_classes', 'UPDATE', "'fewshot:' || NEW.set_id"],
  ['fewshot_classes', 'DELETE', "'fewshot:' || OLD.set_id"]
])}
      CREATE TRIGGER rev_fewshot_sets_insert AFTER INSERT ON fewshot_sets BEGIN
        UPDATE revisions SET value = value + 1 WHERE scope = '#';
        INSERT OR IGNORE INTO revisions (scope, value) VALUES ('fewshot:' || NEW.id, 0);
        UPDATE revisions SET value = (SELECT value FROM revisions WHERE scope = '#') WHERE scope = 'fewshot:' || NEW.id;
      END;
      CREATE TRIGGER rev_fewshot_sets_delete AFTER DELETE ON fewshot_sets BEGIN
        UPDATE revisions SET value = value + 1 WHERE scope = '#';
        DELETE FROM revisions WHERE scope = 'fewshot:' || OLD.id;
      END;
      ALTER TABLE label_ops ADD COLUMN client_id TEXT;
      CREATE INDEX label_ops_client ON label_ops(client_id, undone, id);
      CREATE TABLE template_measurements (
        model_id TEXT NOT NULL,
        groups_key TEXT NOT NULL,
        result TEXT NOT NULL,
        seconds REAL NOT NULL,
        measured_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        PRIMARY KEY (model_id, groups_key)
      ) WITHOUT ROWID;
    `
  },
  {
    version: 8,
    description: 'runs can be named and annotated',
    sql: `
      ALTER TABLE runs ADD COLUMN name TEXT;
      ALTER TABLE runs ADD COLUMN note TEXT;
    `
  }
];

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]!.version;
