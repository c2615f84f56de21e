/** The rule every prompt template follows: `{}` marks where the class name goes, exactly once. */

export const CLASS_SLOT = '{}';

/** How many `{}` a template has. */
export function classSlotCount(template: string): number {
  return template.split(CLASS_SLOT).length - 1;
}

/** Whether a template has `{}` exactly once. */
export function hasOneClassSlot(template: string): boolean {
  return classSlotCount(template) === 1;
}
