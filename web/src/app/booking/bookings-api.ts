import { HttpClient, HttpErrorResponse, HttpHeaders, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable, throwError, timeout } from 'rxjs';
import { API } from '../core/api';
import { Booking, BookingFilter, BookingPage, BookingRequest } from '../core/models';

/**
 * How long a booking POST waits for its answer (fetch has no timeout of its own; the proxy
 * gives up at 30 s). Below the proxy's, so a stalled connection is retried by the client.
 */
export const BOOKING_TIMEOUT_MS = 20_000;

@Injectable({ providedIn: 'root' })
export class BookingsApi {
  private readonly http = inject(HttpClient);

  /**
   * Books; no answer within BOOKING_TIMEOUT_MS cancels the request and fails as a network error
   * does (status 0): the outcome is unknown, so it is retried with the same key.
   */
  create(request: BookingRequest, idempotencyKey: string): Observable<Booking> {
    const url = `${API}/bookings`;
    const headers = new HttpHeaders({ 'Idempotency-Key': idempotencyKey });
    return this.http.post<Booking>(url, request, { headers }).pipe(
      timeout({
        first: BOOKING_TIMEOUT_MS,
        with: () =>
          throwError(() => new HttpErrorResponse({ status: 0, statusText: 'Timeout', url })),
      }),
    );
  }

  get(id: number): Observable<Booking> {
    return this.http.get<Booking>(`${API}/bookings/${id}`);
  }

  /**
   * The caller's bookings, newest first; for an admin, all of them. Filters: event, status,
   * payment status, and a payment reference (exact).
   */
  list(filter: BookingFilter = {}): Observable<BookingPage> {
    let params = new HttpParams().set('limit', filter.limit ?? 200);
    if (filter.eventId !== undefined) params = params.set('event_id', filter.eventId);
    if (filter.status) params = params.set('status', filter.status);
    if (filter.paymentStatus) params = params.set('payment_status', filter.paymentStatus);
    if (filter.reference) params = params.set('reference', filter.reference);
    return this.http.get<BookingPage>(`${API}/bookings`, { params });
  }

  /** The owner or an admin; a PENDING booking's hold is released. */
  cancel(id: number): Observable<Booking> {
    return this.http.post<Booking>(`${API}/bookings/${id}/cancel`, {});
  }

  /** The owner: the tickets of a CONFIRMED booking by email again (at most 3 an hour: 429). */
  resendTickets(id: number): Observable<unknown> {
    return this.http.post<unknown>(`${API}/bookings/${id}/resend-tickets`, {});
  }

  /** Admin: the money arrived by another path (bank transfer, box office). */
  markPaid(id: number): Observable<Booking> {
    return this.http.post<Booking>(`${API}/bookings/${id}/mark-paid`, {});
  }

  /** Admin: the refund owed (refund_due) was paid out. */
  markRefunded(id: number): Observable<Booking> {
    return this.http.post<Booking>(`${API}/bookings/${id}/mark-refunded`, {});
  }
}
