/**
 * The pause of a polling loop that can be cut short: `pause(ms)` waits `ms` (or until `wake()`),
 * `wake()` ends the pause in progress, if any (work arrived, or the loop is stopping).
 */
export class WakeablePause {
  private wakeUp: (() => void) | null = null;

  pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake(), Math.max(0, ms));
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
    });
  }

  wake(): void {
    this.wakeUp?.();
  }
}
