import { inject, Signal, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { TicketEvent } from '../core/models';
import { AVAILABILITY_POLL_MS, poll } from '../shared/poll';
import { EventsApi } from './events-api';

export interface PolledEvents {
  /** null until the first load answers. */
  readonly events: Signal<TicketEvent[] | null>;
  /** The last load failed; the list from the one before stays shown. */
  readonly loadFailed: Signal<boolean>;
}

/**
 * The events, re-read every AVAILABILITY_POLL_MS for as long as the calling component lives,
 * so counts of tickets left or sold do not go stale. `keep` picks the ones to show. Call it in
 * an injection context (a component's field initializer).
 */
export function pollEvents(
  keep: (events: TicketEvent[]) => TicketEvent[] = (events) => events,
): PolledEvents {
  const api = inject(EventsApi);
  const events = signal<TicketEvent[] | null>(null);
  const loadFailed = signal(false);
  poll(AVAILABILITY_POLL_MS, () => api.list())
    .pipe(takeUntilDestroyed())
    .subscribe((result) => {
      loadFailed.set(!result.ok);
      if (result.ok) events.set(keep(result.value.items));
    });
  return { events: events.asReadonly(), loadFailed: loadFailed.asReadonly() };
}
