import { HttpClient, HttpHeaders, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';
import { API } from '../core/api';
import { Booking, BookingPage, BookingRequest } from '../core/models';

@Injectable({ providedIn: 'root' })
export class BookingsApi {
  private readonly http = inject(HttpClient);

  create(request: BookingRequest, idempotencyKey: string): Observable<Booking> {
    const headers = new HttpHeaders({ 'Idempotency-Key': idempotencyKey });
    return this.http.post<Booking>(`${API}/bookings`, request, { headers });
  }

  /** The caller's bookings, newest first; for an admin, all of them (filter by event). */
  list(filter: { eventId?: number; limit?: number } = {}): Observable<BookingPage> {
    let params = new HttpParams().set('limit', filter.limit ?? 200);
    if (filter.eventId !== undefined) params = params.set('event_id', filter.eventId);
    return this.http.get<BookingPage>(`${API}/bookings`, { params });
  }

  cancel(id: number): Observable<Booking> {
    return this.http.post<Booking>(`${API}/bookings/${id}/cancel`, {});
  }
}
