import { Component, inject, input, signal } from '@angular/core';
import { takeUntilDestroyed, toObservable } from '@angular/core/rxjs-interop';
import { RouterLink } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { combineLatest, switchMap } from 'rxjs';
import { Booking, TicketEvent } from '../core/models';
import { BookingsApi } from '../booking/bookings-api';
import { EventsApi } from '../events/events-api';
import { LanguageService } from '../i18n/language.service';
import { MoneyPipe, WhenPipe } from '../shared/format';
import { AVAILABILITY_POLL_MS, poll } from '../shared/poll';
import { SalesBar } from './sales-bar';

/** One event's sales: sold / capacity and every booking for it. */
@Component({
  selector: 'app-event-sales',
  imports: [RouterLink, TranslatePipe, MoneyPipe, WhenPipe, SalesBar],
  templateUrl: './event-sales.html',
})
export class EventSales {
  readonly id = input.required<string>();
  private readonly eventsApi = inject(EventsApi);
  private readonly bookingsApi = inject(BookingsApi);
  protected readonly lang = inject(LanguageService).current;
  protected readonly event = signal<TicketEvent | null>(null);
  protected readonly bookings = signal<Booking[]>([]);
  protected readonly total = signal(0);
  protected readonly loadFailed = signal(false);

  constructor() {
    toObservable(this.id)
      .pipe(
        switchMap((id) =>
          poll(AVAILABILITY_POLL_MS, () =>
            combineLatest([
              this.eventsApi.get(Number(id)),
              this.bookingsApi.list({ eventId: Number(id) }),
            ]),
          ),
        ),
        takeUntilDestroyed(),
      )
      .subscribe((result) => {
        this.loadFailed.set(!result.ok);
        if (!result.ok) return;
        const [event, page] = result.value;
        this.event.set(event);
        this.bookings.set(page.items);
        this.total.set(page.total);
      });
  }
}
