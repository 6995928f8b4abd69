/**
 * Thrown by a side when the feature a workload measures does not exist (yet) on that side: the workload then
 * reports "skipped: <reason>" for it instead of failing the run.
 */
export class Skip extends Error {
  /** @param {string} reason */
  constructor(reason) {
    super(reason);
    this.name = "Skip";
    this.skip = true;
  }
}
