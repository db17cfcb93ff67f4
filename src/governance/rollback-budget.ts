// DESIGN §4: how long an action has to show it helped before it is undone, by the level it was
// granted at. The same budget bounds how long a human may take to approve one.
export const ROLLBACK_BUDGET_MS: Readonly<Record<2 | 3, number>> = { 2: 15 * 60_000, 3: 5 * 60_000 };

/** The budget for an agent level (level 1 never executes; its advice gets the supervised budget). */
export const rollbackBudgetMs = (level: number): number => ROLLBACK_BUDGET_MS[level >= 3 ? 3 : 2];
