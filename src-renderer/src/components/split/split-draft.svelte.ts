// The Split screen's edits before they reach the core: shown at once, sent once the user pauses.
import type { PlanChoices } from '../../../../src-main/core/api/contract.js';
import { AUTO_CHOICES } from '../../../../src-main/shared/plan-choices.js';
import type { SessionState } from '../../lib/session.svelte.js';

/** How long an edit waits for the next one before the plan is asked for (a dragged slider sends one). */
export const REPLAN_DELAY_MS = 250;

/** Choices being edited: the pending edit while there is one, else the session's. */
export class SplitDraft {
  /** The edit not yet answered by a new plan; null when the screen shows the session's choices. */
  pending = $state.raw<PlanChoices | null>(null);
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly session: SessionState) {}

  get choices(): PlanChoices {
    return this.pending ?? this.session.session?.choices ?? AUTO_CHOICES;
  }

  /** Show `choices` now and re-plan with them after a pause. */
  change(choices: PlanChoices): void {
    this.pending = choices;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.flush(), REPLAN_DELAY_MS);
  }

  /** Re-plan now with the pending edit; it stays shown until the answer (or a newer edit) replaces it. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    const choices = this.pending;
    if (!choices) return;
    await this.session.choose(choices);
    if (this.pending === choices) this.pending = null;
  }

  /** Drop the pending edit, e.g. for "Auto". */
  discard(): void {
    clearTimeout(this.#timer);
    this.pending = null;
  }
}
