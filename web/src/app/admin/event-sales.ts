import { Component, inject, input, signal } from '@angular/core';
import { takeUntilDestroyed, toObservable } from '@angular/core/rxjs-interop';
import { RouterLink } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { switchMap } from 'rxjs';
import { TicketEvent } from '../core/models';
import { EventsApi } from '../events/events-api';
import { LanguageService } from '../i18n/language.service';
import { MoneyPipe, WhenPipe } from '../shared/format';
import { AVAILABILITY_POLL_MS, poll } from '../shared/poll';
import { AdminBookings } from './admin-bookings';
import { SalesBar } from './sales-bar';

/**
 * One event's sales, refreshed while the page is open: sold / held / available for the event
 * and for each ticket type, and its bookings (AdminBookings).
 */
@Component({
  selector: 'app-event-sales',
  imports: [RouterLink, TranslatePipe, MoneyPipe, WhenPipe, SalesBar, AdminBookings],
  templateUrl: './event-sales.html',
})
export class EventSales {
  readonly id = input.required<string>();
  private readonly eventsApi = inject(EventsApi);
  protected readonly lang = inject(LanguageService).current;
  protected readonly event = signal<TicketEvent | null>(null);
  protected readonly loadFailed = signal(false);

  constructor() {
    toObservable(this.id)
      .pipe(
        switchMap((id) => poll(AVAILABILITY_POLL_MS, () => this.eventsApi.get(Number(id)))),
        takeUntilDestroyed(),
      )
      .subscribe((result) => {
        this.loadFailed.set(!result.ok);
        if (result.ok) this.event.set(result.value);
      });
  }
}
