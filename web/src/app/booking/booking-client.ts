import { inject, Injectable } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { ApiError, ItemAvailable, toApiError } from '../core/api-error';
import { Booking, BookingItemIn, BookingRequest, TicketEvent } from '../core/models';
import { EventsApi } from '../events/events-api';
import { BookingsApi } from './bookings-api';
import { BOOKING_RETRY_POLICY, isRetryable, retryDelayMs } from './retry-policy';

/** What to book: ticket-type items, or (an event with one type only) a bare quantity. */
export type Order = readonly BookingItemIn[] | number;

export type BookingOutcome =
  /** CONFIRMED with tickets, or PENDING: held until `expires_at`, to be paid. */
  | { kind: 'booked'; booking: Booking }
  /**
   * Not enough left: `available` is the event's, `items` each requested type's (from the
   * answer), `event` the refreshed event when it could be read.
   */
  | { kind: 'sold_out'; available: number; items: ItemAvailable[]; event: TicketEvent | null }
  /** Over the per-customer limit: `remaining` is what this buyer may still book. */
  | { kind: 'limit'; remaining: number; event: TicketEvent | null }
  /** The event's types changed under the page (ticket_type_required / _not_found). */
  | { kind: 'types_changed'; error: ApiError; event: TicketEvent | null }
  /**
   * `retryKey` is set when the outcome is unknown (the retries gave up on a failure that may
   * have come after the booking went through): booking the same order again with that key is
   * safe, as it answers that booking if there is one. Without it, the answer was final.
   */
  | { kind: 'failed'; error: ApiError; retryKey?: string };

/** Codes after which the page's picture of the event is wrong, so it is read again. */
const TYPES_CHANGED = new Set(['ticket_type_required', 'ticket_type_not_found']);

/**
 * Books tickets safely: one Idempotency-Key per booking, reused by every retry, so a retry
 * after a lost answer can never book (or hold) twice. Retries only what may be retried
 * (network errors and timeouts, 502, 503, 504, request_in_progress); a refusal on the event's
 * state re-reads the event instead, so the pickers can be clamped to what is really left. When
 * the retries give up, the outcome says the key, for the caller to send the same order again
 * with it.
 */
@Injectable({ providedIn: 'root' })
export class BookingClient {
  private readonly bookings = inject(BookingsApi);
  private readonly events = inject(EventsApi);
  private readonly policy = inject(BOOKING_RETRY_POLICY);

  /**
   * `onRetry(n)` is told before the n-th retry, so the page can say it is still trying. `key` is
   * an earlier attempt's `retryKey`, given only with that attempt's very order; else a new key
   * is made.
   */
  async book(
    eventId: number,
    order: Order,
    onRetry?: (retry: number) => void,
    key: string = this.policy.newKey(),
  ): Promise<BookingOutcome> {
    const request: BookingRequest =
      typeof order === 'number'
        ? { event_id: eventId, quantity: order }
        : { event_id: eventId, items: order.map((item) => ({ ...item })) };
    for (let retry = 0; ; retry++) {
      try {
        return {
          kind: 'booked',
          booking: await firstValueFrom(this.bookings.create(request, key)),
        };
      } catch (caught) {
        const error = toApiError(caught);
        if (error.status === 409 && error.code === 'sold_out') return this.soldOut(eventId, error);
        if (error.status === 409 && error.code === 'customer_limit_reached') {
          return {
            kind: 'limit',
            remaining: error.remaining ?? 0,
            event: await this.read(eventId),
          };
        }
        if (TYPES_CHANGED.has(error.code)) {
          return { kind: 'types_changed', error, event: await this.read(eventId) };
        }
        if (!isRetryable(error)) return { kind: 'failed', error };
        if (retry >= this.policy.maxRetries) return { kind: 'failed', error, retryKey: key };
        onRetry?.(retry + 1);
        await this.policy.sleep(retryDelayMs(retry, error, this.policy));
      }
    }
  }

  /** Sold out is not retried blindly: read what is left so the pickers can be clamped to it. */
  private async soldOut(eventId: number, error: ApiError): Promise<BookingOutcome> {
    const event = await this.read(eventId);
    const items = error.items ?? [];
    if (!event) return { kind: 'sold_out', available: error.available ?? 0, items, event };
    // The fresh read is newer than the answer: it says what is left now, per type too.
    const fresh = new Map((event.ticket_types ?? []).map((type) => [type.id, type.available]));
    return {
      kind: 'sold_out',
      available: event.available,
      items: items.map((item) => ({
        ticket_type_id: item.ticket_type_id,
        available: fresh.get(item.ticket_type_id) ?? item.available,
      })),
      event,
    };
  }

  private async read(eventId: number): Promise<TicketEvent | null> {
    try {
      return await firstValueFrom(this.events.get(eventId));
    } catch {
      return null;
    }
  }
}
