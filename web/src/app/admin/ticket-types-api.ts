import { HttpClient } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';
import { API } from '../core/api';
import { TicketType, TicketTypeDraft, TicketTypePatch } from '../core/models';

/** Admin: an event's ticket types (1..20 per event, sharing its capacity). */
@Injectable({ providedIn: 'root' })
export class TicketTypesApi {
  private readonly http = inject(HttpClient);

  create(eventId: number, draft: TicketTypeDraft): Observable<TicketType> {
    return this.http.post<TicketType>(`${API}/events/${eventId}/ticket-types`, draft);
  }

  update(
    eventId: number,
    typeId: number,
    changes: Partial<TicketTypeDraft>,
  ): Observable<TicketType> {
    return this.http.patch<TicketType>(`${API}/events/${eventId}/ticket-types/${typeId}`, changes);
  }

  /** Only a type no booking names, and not the event's last one. */
  delete(eventId: number, typeId: number): Observable<void> {
    return this.http.delete<void>(`${API}/events/${eventId}/ticket-types/${typeId}`);
  }
}
