import { Component, ElementRef, inject, signal, viewChild } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { firstValueFrom } from 'rxjs';
import { ApiError, toApiError } from '../core/api-error';
import { Ticket, TicketEvent } from '../core/models';
import { EventsApi } from '../events/events-api';
import { ApiErrorPipe } from '../i18n/error-message';
import { LanguageService } from '../i18n/language.service';
import { WhenPipe } from '../shared/format';
import { DoorFeedback, DoorSignal } from './door-feedback';
import { QrCamera } from './qr-camera';
import { TicketsApi } from './tickets-api';

export type CheckInResult =
  | { kind: 'admitted'; ticket: Ticket }
  | { kind: 'already'; code: string; checkedInAt: string | null }
  | { kind: 'void'; code: string }
  | { kind: 'unknown'; code: string }
  | { kind: 'error'; error: ApiError };

const SIGNALS: Record<CheckInResult['kind'], DoorSignal> = {
  admitted: 'admit',
  already: 'warn',
  void: 'refuse',
  unknown: 'refuse',
  error: 'refuse',
};

/**
 * Door staff scan a ticket's QR code with the phone's camera, or type, paste or use a hand
 * scanner, and see (and hear, and feel) the verdict at a glance: admit, already used, void.
 */
@Component({
  selector: 'app-check-in',
  imports: [FormsModule, RouterLink, TranslatePipe, WhenPipe, ApiErrorPipe, QrCamera],
  templateUrl: './check-in.html',
})
export class CheckIn {
  private readonly api = inject(TicketsApi);
  private readonly eventsApi = inject(EventsApi);
  private readonly feedback = inject(DoorFeedback);
  protected readonly lang = inject(LanguageService).current;
  private readonly input = viewChild<ElementRef<HTMLInputElement>>('codeInput');
  protected code = '';
  protected readonly busy = signal(false);
  protected readonly result = signal<CheckInResult | null>(null);
  /** The ticket's event (its name and zone), when it could be read. */
  protected readonly event = signal<TicketEvent | null>(null);
  /** Bumped on every verdict so the same verdict twice still flashes anew. */
  protected readonly verdictCount = signal(0);
  private readonly events = new Map<number, TicketEvent>();

  protected async submit(): Promise<void> {
    const code = this.code.trim();
    this.code = '';
    await this.check(code);
    this.input()?.nativeElement.focus();
  }

  protected unlockSound(): void {
    this.feedback.unlock();
  }

  protected async check(raw: string): Promise<void> {
    const code = raw.trim();
    if (!code || this.busy()) return;
    this.busy.set(true);
    try {
      const result = await this.checkIn(code);
      this.result.set(result);
      this.verdictCount.update((n) => n + 1);
      this.feedback.signal(SIGNALS[result.kind]);
    } finally {
      this.busy.set(false);
    }
  }

  private async checkIn(code: string): Promise<CheckInResult> {
    this.event.set(null);
    try {
      const ticket = await firstValueFrom(this.api.checkIn(code));
      void this.showEvent(ticket.event_id);
      return { kind: 'admitted', ticket };
    } catch (caught) {
      const error = toApiError(caught);
      if (error.code === 'already_checked_in') {
        const ticket = await firstValueFrom(this.api.get(code)).catch(() => null);
        if (ticket) void this.showEvent(ticket.event_id);
        return { kind: 'already', code, checkedInAt: ticket?.checked_in_at ?? null };
      }
      if (error.code === 'ticket_void') return { kind: 'void', code };
      if (error.status === 404) return { kind: 'unknown', code };
      return { kind: 'error', error };
    }
  }

  private async showEvent(id: number): Promise<void> {
    const known = this.events.get(id);
    if (known) {
      this.event.set(known);
      return;
    }
    try {
      const event = await firstValueFrom(this.eventsApi.get(id));
      this.events.set(id, event);
      this.event.set(event);
    } catch {
      // The verdict stands without the event's name.
    }
  }
}
