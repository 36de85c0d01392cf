import { Component, inject, input, signal } from '@angular/core';
import { takeUntilDestroyed, toObservable } from '@angular/core/rxjs-interop';
import { RouterLink } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { switchMap } from 'rxjs';
import { BookPanel } from '../booking/book-panel';
import { TicketEvent } from '../core/models';
import { LanguageService } from '../i18n/language.service';
import { MoneyPipe, WhenPipe } from '../shared/format';
import { AVAILABILITY_POLL_MS, poll } from '../shared/poll';
import { AvailabilityBadge } from './availability-badge';
import { severalTypes } from './ticket-types';
import { EventsApi } from './events-api';

/** One event's details and the booking panel; availability refreshes by polling. */
@Component({
  selector: 'app-event-detail',
  imports: [RouterLink, TranslatePipe, MoneyPipe, WhenPipe, AvailabilityBadge, BookPanel],
  templateUrl: './event-detail.html',
})
export class EventDetail {
  /** From the route (`events/:id`). */
  readonly id = input.required<string>();
  private readonly api = inject(EventsApi);
  protected readonly lang = inject(LanguageService).current;
  protected readonly severalTypes = severalTypes;
  protected readonly event = signal<TicketEvent | null>(null);
  protected readonly notFound = signal(false);
  protected readonly loadFailed = signal(false);

  constructor() {
    toObservable(this.id)
      .pipe(
        switchMap((id) => poll(AVAILABILITY_POLL_MS, () => this.api.get(Number(id)))),
        takeUntilDestroyed(),
      )
      .subscribe((result) => {
        if (result.ok) {
          this.event.set(result.value);
          this.loadFailed.set(false);
        } else if (result.error.status === 404 || result.error.status === 422) {
          this.notFound.set(true);
        } else {
          this.loadFailed.set(true);
        }
      });
  }
}
