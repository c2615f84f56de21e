/**
 * The files of a drop, with dropped folders walked recursively (web mode cannot read folders from
 * `dataTransfer.files`; Electron gets the folder path instead and lets the importer walk it).
 */
export async function droppedFiles(transfer: DataTransfer, wantPaths: boolean): Promise<File[]> {
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (wantPaths || entries.length === 0) return [...transfer.files];
  const files: File[] = [];
  const readAll = (reader: FileSystemDirectoryReader) =>
    new Promise<FileSystemEntry[]>((resolve, reject) => {
      const all: FileSystemEntry[] = [];
      const next = () => reader.readEntries((batch) => (batch.length ? (all.push(...batch), next()) : resolve(all)), reject);
      next();
    });
  const visit = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) files.push(await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)));
    else if (entry.isDirectory) for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await visit(child);
  };
  for (const entry of entries) await visit(entry);
  return files.filter((f) => !f.name.startsWith('.'));
}
