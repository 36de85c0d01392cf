import { Component, computed, inject, input, signal } from '@angular/core';
import { takeUntilDestroyed, toObservable, toSignal } from '@angular/core/rxjs-interop';
import { RouterLink } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { firstValueFrom, merge, Subject, switchMap, takeWhile } from 'rxjs';
import { ConfigApi } from '../core/config-api';
import { Booking, BookingItem, TicketEvent } from '../core/models';
import { EventsApi } from '../events/events-api';
import { LanguageService } from '../i18n/language.service';
import { MoneyPipe, WhenPipe } from '../shared/format';
import { poll, Polled } from '../shared/poll';
import { BookingsApi } from './bookings-api';
import { Countdown } from './countdown';
import { TicketQr } from './ticket-qr';

/** How often a PENDING booking is re-read, so a payment that arrived shows without a reload. */
export const CHECKOUT_POLL_MS = 3000;

/**
 * The checkout of one booking (`/checkout/:id`): while PENDING, its items and total, the time
 * left on the hold (server time) and how to pay; once paid, its tickets; once expired, that it
 * did and a way to try again. Only the caller's own booking can be read (the API answers 404
 * for anyone else's), so it never shows tickets that are not the buyer's.
 */
@Component({
  selector: 'app-checkout-page',
  imports: [RouterLink, TranslatePipe, MoneyPipe, WhenPipe, Countdown, TicketQr],
  templateUrl: './checkout-page.html',
})
export class CheckoutPage {
  /** From the route (`checkout/:id`). */
  readonly id = input.required<string>();
  private readonly bookingsApi = inject(BookingsApi);
  private readonly eventsApi = inject(EventsApi);
  protected readonly lang = inject(LanguageService).current;
  protected readonly config = toSignal(inject(ConfigApi).config$, { initialValue: null });
  protected readonly booking = signal<Booking | null>(null);
  protected readonly event = signal<TicketEvent | null>(null);
  protected readonly notFound = signal(false);
  protected readonly loadFailed = signal(false);
  protected readonly currency = computed(
    () => this.booking()?.payment?.currency ?? this.booking()?.currency ?? 'THB',
  );
  private readonly reread = new Subject<void>();

  constructor() {
    merge(toObservable(this.id), this.reread)
      .pipe(
        switchMap(() =>
          poll(CHECKOUT_POLL_MS, () => this.bookingsApi.get(Number(this.id()))).pipe(
            // Only a PENDING booking changes by itself (paid, expired); others are final here.
            takeWhile((result) => !result.ok || result.value.status === 'PENDING', true),
          ),
        ),
        takeUntilDestroyed(),
      )
      .subscribe((result) => this.show(result));
  }

  protected subtotal(item: BookingItem): number {
    return (Math.round(Number(item.unit_price) * 100) * item.quantity) / 100;
  }

  /** The countdown reached 0:00: the service shows the booking EXPIRED from then on. */
  protected expired(): void {
    this.reread.next();
  }

  private show(result: Polled<Booking>): void {
    if (!result.ok) {
      if (result.error.status === 404 || result.error.status === 422) this.notFound.set(true);
      else this.loadFailed.set(true);
      return;
    }
    this.loadFailed.set(false);
    const booking = result.value;
    this.booking.set(booking);
    if (this.event()?.id !== booking.event_id) void this.loadEvent(booking.event_id);
  }

  private async loadEvent(id: number): Promise<void> {
    try {
      this.event.set(await firstValueFrom(this.eventsApi.get(id)));
    } catch {
      // The booking is shown without the event's name; the next booking read tries again.
    }
  }
}
