/**
 * Unsaved template edits per project, kept while the app runs: leaving the Templates page, or
 * visiting another project, keeps them; the Train page warns that training uses the saved groups.
 */
export interface TemplateDraft {
  /** The saved groups the draft started from (JSON); a draft over other saved groups is stale. */
  saved: string;
  groups: { name: string; templates: string[] }[];
}

const drafts = new Map<string, TemplateDraft>();

export const templateDrafts = {
  get: (project: string): TemplateDraft | undefined => drafts.get(project),
  set: (project: string, draft: TemplateDraft | null): void => {
    if (draft) drafts.set(project, draft);
    else drafts.delete(project);
  }
};
