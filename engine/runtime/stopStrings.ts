/**
 * Cuts streamed text at the first stop string, holding back a tail that might be the start of one so that
 * no piece of a stop string is ever shown.
 */
export class StopStringFilter {
  private pending = '';

  constructor(private readonly stops: readonly string[]) {}

  /** Adds text; returns what can be shown now and whether a stop string was reached. */
  push(text: string): { text: string; stopped: boolean } {
    if (this.stops.length === 0) return { text, stopped: false };
    this.pending += text;
    let cut = -1;
    for (const stop of this.stops) {
      if (stop.length === 0) continue;
      const at = this.pending.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      const shown = this.pending.slice(0, cut);
      this.pending = '';
      return { text: shown, stopped: true };
    }
    const hold = this.heldBack();
    const shown = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return { text: shown, stopped: false };
  }

  /** At the end: the held-back tail, which turned out not to be a stop string. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }

  /** Length of the longest tail of `pending` that is a proper prefix of some stop string. */
  private heldBack(): number {
    let best = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, this.pending.length); n > best; n--) {
        if (this.pending.endsWith(stop.slice(0, n))) { best = n; break; }
      }
    }
    return best;
  }
}
