import type { PlanOptions, SplitPlan } from '../planner/plan-types.js';
import type { Member } from './members.js';

/** A plan and what it was made over: the members (by id in the plan, with where to reach them) and the peers left out, with why. */
export interface Planned {
  plan: SplitPlan;
  /** What the plan was asked for with (a heal or keep-warm plans again with them). */
  options: PlanOptions;
  members: Member[];
  skipped: { name: string; reason: string }[];
}
