import { Component, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { TranslatePipe, TranslateService } from '@ngx-translate/core';
import { firstValueFrom } from 'rxjs';
import { toApiError } from '../core/api-error';
import { Booking, TicketEvent } from '../core/models';
import { EventsApi } from '../events/events-api';
import { errorMessage } from '../i18n/error-message';
import { LanguageService } from '../i18n/language.service';
import { MoneyPipe, WhenPipe } from '../shared/format';
import { BookingsApi } from './bookings-api';
import { TicketQr } from './ticket-qr';

/** The user's bookings with their tickets (code + QR); cancelling asks for confirmation. */
@Component({
  selector: 'app-my-bookings',
  imports: [RouterLink, TranslatePipe, MoneyPipe, WhenPipe, TicketQr],
  templateUrl: './my-bookings.html',
})
export class MyBookings {
  private readonly bookingsApi = inject(BookingsApi);
  private readonly eventsApi = inject(EventsApi);
  private readonly translate = inject(TranslateService);
  protected readonly lang = inject(LanguageService).current;

  protected readonly bookings = signal<Booking[] | null>(null);
  protected readonly events = signal<ReadonlyMap<number, TicketEvent>>(new Map());
  protected readonly confirming = signal<number | null>(null);
  protected readonly cancelling = signal<number | null>(null);
  protected readonly error = signal<string | null>(null);

  constructor() {
    void this.load();
  }

  protected async cancel(booking: Booking): Promise<void> {
    this.cancelling.set(booking.id);
    this.error.set(null);
    try {
      const cancelled = await firstValueFrom(this.bookingsApi.cancel(booking.id));
      this.bookings.update(
        (list) => list?.map((b) => (b.id === cancelled.id ? cancelled : b)) ?? null,
      );
    } catch (caught) {
      this.error.set(errorMessage(this.translate, toApiError(caught)));
    } finally {
      this.cancelling.set(null);
      this.confirming.set(null);
    }
  }

  private async load(): Promise<void> {
    try {
      const page = await firstValueFrom(this.bookingsApi.list());
      this.bookings.set(page.items);
      await this.loadEvents(page.items);
    } catch (caught) {
      this.error.set(errorMessage(this.translate, toApiError(caught)));
    }
  }

  /** Bookings carry only event ids; read each event once for its name and date. */
  private async loadEvents(bookings: Booking[]): Promise<void> {
    const ids = [...new Set(bookings.map((b) => b.event_id))];
    const found = await Promise.all(
      ids.map((id) => firstValueFrom(this.eventsApi.get(id)).catch(() => null)),
    );
    this.events.set(
      new Map(found.filter((e): e is TicketEvent => e !== null).map((e) => [e.id, e])),
    );
  }
}
