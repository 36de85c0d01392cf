import { Observable, catchError, filter, map, of, switchMap, timer } from 'rxjs';
import { ApiError, toApiError } from '../core/api-error';

export type Polled<T> = { ok: true; value: T } | { ok: false; error: ApiError };

/**
 * Loads now and then every `everyMs`, skipping ticks while the tab is hidden; a failed load
 * is reported and polling goes on (a brief outage should not freeze the page).
 */
export function poll<T>(everyMs: number, load: () => Observable<T>): Observable<Polled<T>> {
  return timer(0, everyMs).pipe(
    filter((tick) => tick === 0 || typeof document === 'undefined' || !document.hidden),
    switchMap(() =>
      load().pipe(
        map((value): Polled<T> => ({ ok: true, value })),
        catchError((error: unknown) => of<Polled<T>>({ ok: false, error: toApiError(error) })),
      ),
    ),
  );
}

/** How often lists of events refresh their availability. */
export const AVAILABILITY_POLL_MS = 5000;
