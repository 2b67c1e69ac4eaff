// What the user chooses for a split, and "auto": the UI offers them, the core plans with them.

/** What the user chose for the split; all empty is "auto". */
export interface PlanChoices {
  /** Tokens of context; null for Hearth's default (4096, or less if the model was trained for less). */
  contextLength: number | null;
  /** Device id → weight; devices not listed share by free memory. */
  shares: Record<string, number>;
  /** Device ids or peer ids left out. */
  exclude: string[];
}

/** Auto: Hearth's default context, shares by free memory, nothing left out. */
export const AUTO_CHOICES: Readonly<PlanChoices> = Object.freeze({ contextLength: null, shares: {}, exclude: [] });
