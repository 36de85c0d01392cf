import { HttpClient, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';
import { API } from '../core/api';
import { EventIn, EventPage, EventPatch, TicketEvent } from '../core/models';

@Injectable({ providedIn: 'root' })
export class EventsApi {
  private readonly http = inject(HttpClient);

  list(limit = 200, offset = 0): Observable<EventPage> {
    const params = new HttpParams().set('limit', limit).set('offset', offset);
    return this.http.get<EventPage>(`${API}/events`, { params });
  }

  get(id: number): Observable<TicketEvent> {
    return this.http.get<TicketEvent>(`${API}/events/${id}`);
  }

  create(draft: EventIn): Observable<TicketEvent> {
    return this.http.post<TicketEvent>(`${API}/events`, draft);
  }

  update(id: number, changes: EventPatch): Observable<TicketEvent> {
    return this.http.patch<TicketEvent>(`${API}/events/${id}`, changes);
  }
}
