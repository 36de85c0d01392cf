import { HttpClient } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';
import { API } from '../core/api';
import { Ticket } from '../core/models';

@Injectable({ providedIn: 'root' })
export class TicketsApi {
  private readonly http = inject(HttpClient);

  get(code: string): Observable<Ticket> {
    return this.http.get<Ticket>(`${API}/tickets/${encodeURIComponent(code)}`);
  }

  checkIn(code: string): Observable<Ticket> {
    return this.http.post<Ticket>(`${API}/tickets/${encodeURIComponent(code)}/check-in`, {});
  }
}
