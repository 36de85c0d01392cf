import { HttpClient } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { catchError, map, Observable, of, shareReplay } from 'rxjs';
import { API } from './api';
import { AppConfig } from './models';

const OFF: AppConfig = { dev_payments: false };

/** GET /config, read once per page load; when it cannot be read, everything optional is off. */
@Injectable({ providedIn: 'root' })
export class ConfigApi {
  private readonly http = inject(HttpClient);
  readonly config$: Observable<AppConfig> = this.http.get<AppConfig>(`${API}/config`).pipe(
    map((config) => ({ dev_payments: config.dev_payments === true })),
    catchError(() => of(OFF)),
    shareReplay(1),
  );
}
