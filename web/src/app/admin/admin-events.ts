import { Component, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { RouterLink } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { TicketEvent } from '../core/models';
import { EventsApi } from '../events/events-api';
import { LanguageService } from '../i18n/language.service';
import { MoneyPipe, WhenPipe } from '../shared/format';
import { AVAILABILITY_POLL_MS, poll } from '../shared/poll';
import { SalesBar } from './sales-bar';

/** All events (past ones too) with their sales, and links to edit, sales and check-in. */
@Component({
  selector: 'app-admin-events',
  imports: [RouterLink, TranslatePipe, MoneyPipe, WhenPipe, SalesBar],
  templateUrl: './admin-events.html',
})
export class AdminEvents {
  private readonly api = inject(EventsApi);
  protected readonly lang = inject(LanguageService).current;
  protected readonly events = signal<TicketEvent[] | null>(null);
  protected readonly loadFailed = signal(false);

  constructor() {
    poll(AVAILABILITY_POLL_MS, () => this.api.list())
      .pipe(takeUntilDestroyed())
      .subscribe((result) => {
        this.loadFailed.set(!result.ok);
        if (result.ok) this.events.set(result.value.items);
      });
  }
}
