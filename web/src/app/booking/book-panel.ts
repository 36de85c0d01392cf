import { Component, computed, inject, linkedSignal, model, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { TranslatePipe, TranslateService } from '@ngx-translate/core';
import { AuthService } from '../auth/auth.service';
import { Booking, TicketEvent } from '../core/models';
import { errorMessage } from '../i18n/error-message';
import { BookingClient } from './booking-client';
import { clampQuantity, maxQuantity } from './quantity';

type PanelResult =
  | { kind: 'booked'; booking: Booking }
  | { kind: 'sold_out'; available: number }
  | { kind: 'failed'; message: string };

/** Quantity picker and Book button; the event is a model so a sold_out refresh flows back up. */
@Component({
  selector: 'app-book-panel',
  imports: [RouterLink, TranslatePipe],
  templateUrl: './book-panel.html',
})
export class BookPanel {
  readonly event = model.required<TicketEvent>();
  private readonly client = inject(BookingClient);
  private readonly translate = inject(TranslateService);
  protected readonly auth = inject(AuthService);

  protected readonly max = computed(() => maxQuantity(this.event()));
  protected readonly options = computed(() => Array.from({ length: this.max() }, (_, i) => i + 1));
  /** Re-clamped whenever the bound changes (polling, a sold_out refresh). */
  protected readonly quantity = linkedSignal<number, number>({
    source: this.max,
    computation: (max, previous) => clampQuantity(previous?.value ?? 1, max),
  });
  protected readonly busy = signal(false);
  protected readonly retry = signal(0);
  protected readonly result = signal<PanelResult | null>(null);
  protected readonly booked = computed(() => narrow(this.result(), 'booked')?.booking ?? null);
  protected readonly soldOutLeft = computed(
    () => narrow(this.result(), 'sold_out')?.available ?? 0,
  );
  protected readonly failure = computed(() => narrow(this.result(), 'failed')?.message ?? '');

  protected pick(value: string): void {
    this.quantity.set(clampQuantity(Number(value), this.max()));
  }

  protected async book(): Promise<void> {
    const quantity = this.quantity();
    if (this.busy() || quantity < 1) return;
    this.busy.set(true);
    this.retry.set(0);
    this.result.set(null);
    const event = this.event();
    try {
      const outcome = await this.client.book(event.id, quantity, (n) => this.retry.set(n));
      if (outcome.kind === 'booked') {
        this.result.set({ kind: 'booked', booking: outcome.booking });
        this.event.set(withSold(event, quantity));
      } else if (outcome.kind === 'sold_out') {
        this.event.set(outcome.event ?? { ...event, available: outcome.available });
        this.result.set({ kind: 'sold_out', available: outcome.available });
      } else {
        this.result.set({ kind: 'failed', message: errorMessage(this.translate, outcome.error) });
      }
    } finally {
      this.busy.set(false);
    }
  }
}

function narrow<K extends PanelResult['kind']>(
  result: PanelResult | null,
  kind: K,
): Extract<PanelResult, { kind: K }> | null {
  return result?.kind === kind ? (result as Extract<PanelResult, { kind: K }>) : null;
}

function withSold(event: TicketEvent, quantity: number): TicketEvent {
  const sold = event.tickets_sold + quantity;
  return { ...event, tickets_sold: sold, available: Math.max(0, event.capacity - sold) };
}
