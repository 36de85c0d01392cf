import { inject, Injectable } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { ApiError, toApiError } from '../core/api-error';
import { Booking, TicketEvent } from '../core/models';
import { EventsApi } from '../events/events-api';
import { BookingsApi } from './bookings-api';
import { BOOKING_RETRY_POLICY, isRetryable, retryDelayMs } from './retry-policy';

export type BookingOutcome =
  | { kind: 'booked'; booking: Booking }
  /** Not enough left: `event` is the refreshed event when it could be read. */
  | { kind: 'sold_out'; available: number; event: TicketEvent | null }
  | { kind: 'failed'; error: ApiError };

/**
 * Books tickets safely: one Idempotency-Key per Book click, reused by every retry, so a retry
 * after a lost answer can never book twice.
 */
@Injectable({ providedIn: 'root' })
export class BookingClient {
  private readonly bookings = inject(BookingsApi);
  private readonly events = inject(EventsApi);
  private readonly policy = inject(BOOKING_RETRY_POLICY);

  /** `onRetry(n)` is told before the n-th retry, so the page can say it is still trying. */
  async book(
    eventId: number,
    quantity: number,
    onRetry?: (retry: number) => void,
  ): Promise<BookingOutcome> {
    const key = this.policy.newKey();
    for (let retry = 0; ; retry++) {
      try {
        const booking = await firstValueFrom(
          this.bookings.create({ event_id: eventId, quantity }, key),
        );
        return { kind: 'booked', booking };
      } catch (caught) {
        const error = toApiError(caught);
        if (error.status === 409 && error.code === 'sold_out') return this.soldOut(eventId, error);
        if (!isRetryable(error) || retry >= this.policy.maxRetries)
          return { kind: 'failed', error };
        onRetry?.(retry + 1);
        await this.policy.sleep(retryDelayMs(retry, error, this.policy));
      }
    }
  }

  /** Sold out is not retried blindly: read what is left so the picker can be clamped to it. */
  private async soldOut(eventId: number, error: ApiError): Promise<BookingOutcome> {
    try {
      const event = await firstValueFrom(this.events.get(eventId));
      return { kind: 'sold_out', available: event.available, event };
    } catch {
      return { kind: 'sold_out', available: error.available ?? 0, event: null };
    }
  }
}
