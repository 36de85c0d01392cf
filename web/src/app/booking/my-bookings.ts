import { Component, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { RouterLink } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { firstValueFrom, interval } from 'rxjs';
import { ApiError, toApiError } from '../core/api-error';
import { Booking, BookingItem, PaymentStatus, TicketEvent } from '../core/models';
import { EventsApi } from '../events/events-api';
import { ApiErrorPipe } from '../i18n/error-message';
import { LanguageService } from '../i18n/language.service';
import { MoneyPipe, WhenPipe } from '../shared/format';
import { BookingsApi } from './bookings-api';
import { Countdown } from './countdown';
import { TicketQr } from './ticket-qr';

/** How often the list is re-read while a booking is PENDING (paid or expired elsewhere). */
export const PENDING_POLL_MS = 5000;

/**
 * The user's bookings: status and payment status, the time left on a hold, tickets (code + QR)
 * once confirmed. Cancelling (or releasing a hold) asks for confirmation.
 */
@Component({
  selector: 'app-my-bookings',
  imports: [ApiErrorPipe, RouterLink, TranslatePipe, MoneyPipe, WhenPipe, TicketQr, Countdown],
  templateUrl: './my-bookings.html',
})
export class MyBookings {
  private readonly bookingsApi = inject(BookingsApi);
  private readonly eventsApi = inject(EventsApi);
  protected readonly lang = inject(LanguageService).current;

  protected readonly bookings = signal<Booking[] | null>(null);
  protected readonly events = signal<ReadonlyMap<number, TicketEvent>>(new Map());
  protected readonly confirming = signal<number | null>(null);
  protected readonly cancelling = signal<number | null>(null);
  /** The booking whose tickets are being, or were just, emailed again. */
  protected readonly resending = signal<number | null>(null);
  protected readonly resent = signal<number | null>(null);
  protected readonly error = signal<ApiError | null>(null);

  constructor() {
    void this.load();
    interval(PENDING_POLL_MS)
      .pipe(takeUntilDestroyed())
      .subscribe(() => {
        if (this.bookings()?.some((b) => b.status === 'PENDING') && !document.hidden) {
          void this.reload();
        }
      });
  }

  /** A hold ran out or may have been paid: read the list again. */
  protected async reload(): Promise<void> {
    try {
      const page = await firstValueFrom(this.bookingsApi.list());
      this.bookings.set(page.items);
    } catch {
      // The list shown stays; the next tick tries again.
    }
  }

  protected currencyOf(booking: Booking, event: TicketEvent | undefined): string {
    return booking.payment?.currency ?? booking.currency ?? event?.currency ?? 'THB';
  }

  /**
   * The payment status worth showing the buyer: none when there is nothing to pay, and not
   * "due" once the booking can no longer be paid (expired, cancelled).
   */
  protected paymentShown(booking: Booking): PaymentStatus | null {
    const status = booking.payment?.status ?? 'none';
    if (status === 'none') return null;
    if (status === 'due' && booking.status !== 'PENDING') return null;
    return status;
  }

  protected itemsOf(booking: Booking): BookingItem[] {
    return booking.items ?? [];
  }

  protected typeName(booking: Booking, typeId: number | null): string | null {
    const items = this.itemsOf(booking);
    if (items.length < 2) return null;
    return items.find((item) => item.ticket_type_id === typeId)?.name ?? null;
  }

  protected async resend(booking: Booking): Promise<void> {
    this.resending.set(booking.id);
    this.resent.set(null);
    this.error.set(null);
    try {
      await firstValueFrom(this.bookingsApi.resendTickets(booking.id));
      this.resent.set(booking.id);
    } catch (caught) {
      this.error.set(toApiError(caught));
    } finally {
      this.resending.set(null);
    }
  }

  protected async cancel(booking: Booking): Promise<void> {
    this.cancelling.set(booking.id);
    this.error.set(null);
    try {
      const cancelled = await firstValueFrom(this.bookingsApi.cancel(booking.id));
      this.bookings.update(
        (list) => list?.map((b) => (b.id === cancelled.id ? cancelled : b)) ?? null,
      );
    } catch (caught) {
      this.error.set(toApiError(caught));
    } finally {
      this.cancelling.set(null);
      this.confirming.set(null);
    }
  }

  private async load(): Promise<void> {
    try {
      const page = await firstValueFrom(this.bookingsApi.list());
      this.bookings.set(page.items);
      await this.loadEvents(page.items);
    } catch (caught) {
      this.error.set(toApiError(caught));
    }
  }

  /** Bookings carry only event ids; read each event once for its name and date. */
  private async loadEvents(bookings: Booking[]): Promise<void> {
    const ids = [...new Set(bookings.map((b) => b.event_id))];
    const found = await Promise.all(
      ids.map((id) => firstValueFrom(this.eventsApi.get(id)).catch(() => null)),
    );
    this.events.set(
      new Map(found.filter((e): e is TicketEvent => e !== null).map((e) => [e.id, e])),
    );
  }
}
