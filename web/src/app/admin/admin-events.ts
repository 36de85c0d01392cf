import { Component, inject } from '@angular/core';
import { RouterLink } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { pollEvents } from '../events/polled-events';
import { LanguageService } from '../i18n/language.service';
import { MoneyPipe, WhenPipe } from '../shared/format';
import { SalesBar } from './sales-bar';

/** All events (past ones too) with their sales, and links to edit, sales and check-in. */
@Component({
  selector: 'app-admin-events',
  imports: [RouterLink, TranslatePipe, MoneyPipe, WhenPipe, SalesBar],
  templateUrl: './admin-events.html',
})
export class AdminEvents {
  protected readonly lang = inject(LanguageService).current;
  protected readonly list = pollEvents();
}
