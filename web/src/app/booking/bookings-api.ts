import { HttpClient, HttpHeaders, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';
import { API } from '../core/api';
import { Booking, BookingFilter, BookingPage, BookingRequest } from '../core/models';

@Injectable({ providedIn: 'root' })
export class BookingsApi {
  private readonly http = inject(HttpClient);

  create(request: BookingRequest, idempotencyKey: string): Observable<Booking> {
    const headers = new HttpHeaders({ 'Idempotency-Key': idempotencyKey });
    return this.http.post<Booking>(`${API}/bookings`, request, { headers });
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
