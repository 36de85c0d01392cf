import {
  Component,
  computed,
  DestroyRef,
  effect,
  inject,
  input,
  output,
  signal,
  untracked,
} from '@angular/core';
import { TranslatePipe } from '@ngx-translate/core';
import { formatRemaining, remainingMs, ServerClock } from '../core/server-clock';

/** How often the shown time is recomputed; below a second so it never skips a second. */
export const COUNTDOWN_TICK_MS = 250;

/**
 * The time left until a hold's deadline, on the service's clock (ServerClock), ticking live.
 * Says `expired` once when it reaches 0:00, so the page can re-read the booking.
 */
@Component({
  selector: 'app-countdown',
  imports: [TranslatePipe],
  template: `
    <span
      class="countdown"
      [class.countdown-low]="left() < 60_000"
      role="timer"
      [attr.aria-label]="'checkout.timeLeftLabel' | translate: { time: text() }"
      [attr.data-remaining-ms]="left()"
      data-testid="countdown"
      >{{ text() }}</span
    >
  `,
})
export class Countdown {
  /** ISO time of the deadline (the booking's `expires_at`). */
  readonly deadline = input.required<string>();
  readonly expired = output<void>();
  private readonly clock = inject(ServerClock);
  private readonly browserNow = signal(Date.now());
  protected readonly left = computed(() =>
    remainingMs(this.deadline(), this.clock.now(this.browserNow())),
  );
  protected readonly text = computed(() => formatRemaining(this.left()));

  constructor() {
    const timer = setInterval(() => this.browserNow.set(Date.now()), COUNTDOWN_TICK_MS);
    inject(DestroyRef).onDestroy(() => clearInterval(timer));
    let told: string | null = null;
    effect(() => {
      const deadline = this.deadline();
      if (this.left() > 0 || told === deadline) return;
      told = deadline;
      untracked(() => this.expired.emit());
    });
  }
}
