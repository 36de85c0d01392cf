import { Component, computed, inject, input, signal } from '@angular/core';
import { takeUntilDestroyed, toObservable } from '@angular/core/rxjs-interop';
import { FormsModule } from '@angular/forms';
import { TranslatePipe } from '@ngx-translate/core';
import { combineLatest, firstValueFrom, map, Subject, startWith, switchMap } from 'rxjs';
import { ApiError, toApiError } from '../core/api-error';
import { Booking, BookingFilter, BookingStatus, PaymentStatus, TicketEvent } from '../core/models';
import { BookingsApi } from '../booking/bookings-api';
import { ApiErrorPipe } from '../i18n/error-message';
import { LanguageService } from '../i18n/language.service';
import { MoneyPipe, WhenPipe } from '../shared/format';
import { AVAILABILITY_POLL_MS, poll } from '../shared/poll';

export const BOOKING_STATUSES: readonly BookingStatus[] = [
  'PENDING',
  'CONFIRMED',
  'EXPIRED',
  'CANCELLED',
];
export const PAYMENT_STATUSES: readonly PaymentStatus[] = [
  'none',
  'due',
  'paid',
  'refund_due',
  'refunded',
];

/** An action on one booking that waits for the organiser's "yes". */
export type BookingAction = 'mark-paid' | 'mark-refunded' | 'cancel';

/** Which actions a booking offers an organiser now. */
export function actionsFor(booking: Booking): BookingAction[] {
  const actions: BookingAction[] = [];
  const payment = booking.payment?.status ?? 'none';
  if (payment === 'due') actions.push('mark-paid');
  if (payment === 'refund_due') actions.push('mark-refunded');
  if (booking.status === 'PENDING' || booking.status === 'CONFIRMED') actions.push('cancel');
  return actions;
}

/**
 * An event's bookings for its organiser: the buyer's name and email, items, amount, status and
 * payment status, filtered by status, payment status or a payment reference (exact, as a bank
 * statement shows it), refreshed while the page is open. Marking paid, marking refunded and
 * cancelling each ask for confirmation first.
 */
@Component({
  selector: 'app-admin-bookings',
  imports: [FormsModule, TranslatePipe, MoneyPipe, WhenPipe, ApiErrorPipe],
  templateUrl: './admin-bookings.html',
})
export class AdminBookings {
  readonly event = input.required<TicketEvent>();
  private readonly api = inject(BookingsApi);
  protected readonly lang = inject(LanguageService).current;
  protected readonly statuses = BOOKING_STATUSES;
  protected readonly paymentStatuses = PAYMENT_STATUSES;

  protected readonly status = signal<BookingStatus | ''>('');
  protected readonly paymentStatus = signal<PaymentStatus | ''>('');
  /** The reference being typed, and the one searched for (on submit). */
  protected referenceInput = '';
  protected readonly reference = signal('');
  protected readonly bookings = signal<Booking[]>([]);
  protected readonly total = signal(0);
  protected readonly loadFailed = signal(false);
  protected readonly confirming = signal<{ id: number; action: BookingAction } | null>(null);
  protected readonly working = signal<number | null>(null);
  protected readonly actionError = signal<{ id: number; error: ApiError } | null>(null);
  protected readonly done = signal<{ id: number; action: BookingAction } | null>(null);
  private readonly reread = new Subject<void>();

  private readonly filter = computed<BookingFilter>(() => ({
    eventId: this.event().id,
    status: this.status() || undefined,
    paymentStatus: this.paymentStatus() || undefined,
    reference: this.reference().trim() || undefined,
  }));

  constructor() {
    combineLatest([toObservable(this.filter), this.reread.pipe(startWith(undefined))])
      .pipe(
        map(([filter]) => filter),
        switchMap((filter) => poll(AVAILABILITY_POLL_MS, () => this.api.list(filter))),
        takeUntilDestroyed(),
      )
      .subscribe((result) => {
        this.loadFailed.set(!result.ok);
        if (!result.ok) return;
        this.bookings.set(result.value.items);
        this.total.set(result.value.total);
      });
  }

  protected actions(booking: Booking): BookingAction[] {
    return actionsFor(booking);
  }

  protected search(): void {
    this.reference.set(this.referenceInput);
  }

  protected clearSearch(): void {
    this.referenceInput = '';
    this.reference.set('');
  }

  protected async confirm(booking: Booking, action: BookingAction): Promise<void> {
    this.confirming.set(null);
    this.working.set(booking.id);
    this.actionError.set(null);
    this.done.set(null);
    try {
      const changed = await firstValueFrom(
        action === 'mark-paid'
          ? this.api.markPaid(booking.id)
          : action === 'mark-refunded'
            ? this.api.markRefunded(booking.id)
            : this.api.cancel(booking.id),
      );
      this.bookings.update((list) => list.map((b) => (b.id === changed.id ? changed : b)));
      this.done.set({ id: booking.id, action });
      this.reread.next();
    } catch (caught) {
      this.actionError.set({ id: booking.id, error: toApiError(caught) });
    } finally {
      this.working.set(null);
    }
  }
}
