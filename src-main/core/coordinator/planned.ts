import type { SplitPlan } from '../planner/plan-types.js';
import type { Member } from './members.js';

/** A plan and what it was made over: the members (by id in the plan, with where to reach them) and the peers left out, with why. */
export interface Planned {
  plan: SplitPlan;
  members: Member[];
  skipped: { name: string; reason: string }[];
}
