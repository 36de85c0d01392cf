import { Component, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { RouterLink } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { TicketEvent } from '../core/models';
import { LanguageService } from '../i18n/language.service';
import { MoneyPipe, WhenPipe } from '../shared/format';
import { AVAILABILITY_POLL_MS, poll } from '../shared/poll';
import { AvailabilityBadge } from './availability-badge';
import { EventsApi } from './events-api';

/** Upcoming events, kept fresh by polling so "N left" does not go stale. */
@Component({
  selector: 'app-event-list',
  imports: [RouterLink, TranslatePipe, MoneyPipe, WhenPipe, AvailabilityBadge],
  templateUrl: './event-list.html',
})
export class EventList {
  private readonly api = inject(EventsApi);
  protected readonly lang = inject(LanguageService).current;
  protected readonly events = signal<TicketEvent[] | null>(null);
  protected readonly loadFailed = signal(false);

  constructor() {
    poll(AVAILABILITY_POLL_MS, () => this.api.list())
      .pipe(takeUntilDestroyed())
      .subscribe((result) => {
        this.loadFailed.set(!result.ok);
        if (result.ok) this.events.set(upcoming(result.value.items, Date.now()));
      });
  }
}

export function upcoming(events: TicketEvent[], now: number): TicketEvent[] {
  return events.filter((event) => Date.parse(event.starts_at) >= now);
}
