import type { PlanModel, PlanOptions, SplitPlan } from '../planner/plan-types.js';
import type { Member } from './members.js';

/** A plan and what it was made over: the members (by id in the plan, with where to reach them) and the peers left out, with why. */
export interface Planned {
  plan: SplitPlan;
  /** The model as the planner read it (to plan it again without reading it again). */
  model: PlanModel;
  /** What the plan was asked for with (a heal or keep-warm plans again with them). */
  options: PlanOptions;
  members: Member[];
  skipped: { name: string; reason: string }[];
}
