/**
 * The seconds left of a job phase, from its own pace only: the clock starts when the phase's first
 * batch is done (so loading a model or the first, warm-up batch does not count as pace), and no estimate
 * is given before a second of measured work — a guess is worse than "estimating…".
 */
export class PhaseEta {
  private start: { at: number; done: number } | null = null;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly minMs = 1000
  ) {}

  /** Seconds left at `done` of `total`; null while the pace is not known yet. */
  update(done: number, total: number): number | null {
    const at = this.now();
    // The clock starts at the first finished batch: the wait for it (loading, warm-up) is not pace.
    if (this.start === null || done < this.start.done || (this.start.done === 0 && done > 0)) {
      this.start = { at, done };
      return done >= total && total > 0 ? 0 : null;
    }
    if (done >= total) return 0;
    const ms = at - this.start.at;
    const progressed = done - this.start.done;
    if (ms < this.minMs || progressed <= 0) return null;
    return ((total - done) * ms) / progressed / 1000;
  }
}
