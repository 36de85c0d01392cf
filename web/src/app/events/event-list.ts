import { Component, inject } from '@angular/core';
import { RouterLink } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { TicketEvent } from '../core/models';
import { LanguageService } from '../i18n/language.service';
import { MoneyPipe, WhenPipe } from '../shared/format';
import { AvailabilityBadge } from './availability-badge';
import { severalTypes } from './ticket-types';
import { pollEvents } from './polled-events';

/** Upcoming events, kept fresh by polling so "N left" does not go stale. */
@Component({
  selector: 'app-event-list',
  imports: [RouterLink, TranslatePipe, MoneyPipe, WhenPipe, AvailabilityBadge],
  templateUrl: './event-list.html',
})
export class EventList {
  protected readonly lang = inject(LanguageService).current;
  protected readonly severalTypes = severalTypes;
  protected readonly list = pollEvents((events) => upcoming(events, Date.now()));
}

export function upcoming(events: TicketEvent[], now: number): TicketEvent[] {
  return events.filter((event) => Date.parse(event.starts_at) >= now);
}
