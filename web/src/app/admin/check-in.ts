import { Component, ElementRef, inject, signal, viewChild } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import { TranslatePipe, TranslateService } from '@ngx-translate/core';
import { firstValueFrom } from 'rxjs';
import { toApiError } from '../core/api-error';
import { Ticket } from '../core/models';
import { errorMessage } from '../i18n/error-message';
import { LanguageService } from '../i18n/language.service';
import { WhenPipe } from '../shared/format';
import { TicketsApi } from './tickets-api';

export type CheckInResult =
  | { kind: 'admitted'; ticket: Ticket }
  | { kind: 'already'; code: string; checkedInAt: string | null }
  | { kind: 'void'; code: string }
  | { kind: 'unknown'; code: string }
  | { kind: 'error'; message: string };

/** Door staff type, paste or scan a code and see the verdict at a glance. */
@Component({
  selector: 'app-check-in',
  imports: [FormsModule, RouterLink, TranslatePipe, WhenPipe],
  templateUrl: './check-in.html',
})
export class CheckIn {
  private readonly api = inject(TicketsApi);
  private readonly translate = inject(TranslateService);
  protected readonly lang = inject(LanguageService).current;
  private readonly input = viewChild<ElementRef<HTMLInputElement>>('codeInput');
  protected code = '';
  protected readonly busy = signal(false);
  protected readonly result = signal<CheckInResult | null>(null);

  protected async submit(): Promise<void> {
    const code = this.code.trim();
    if (!code || this.busy()) return;
    this.busy.set(true);
    try {
      this.result.set(await this.checkIn(code));
    } finally {
      this.busy.set(false);
      this.code = '';
      this.input()?.nativeElement.focus();
    }
  }

  private async checkIn(code: string): Promise<CheckInResult> {
    try {
      return { kind: 'admitted', ticket: await firstValueFrom(this.api.checkIn(code)) };
    } catch (caught) {
      const error = toApiError(caught);
      if (error.code === 'already_checked_in') {
        const ticket = await firstValueFrom(this.api.get(code)).catch(() => null);
        return { kind: 'already', code, checkedInAt: ticket?.checked_in_at ?? null };
      }
      if (error.code === 'ticket_void') return { kind: 'void', code };
      if (error.status === 404) return { kind: 'unknown', code };
      return { kind: 'error', message: errorMessage(this.translate, error) };
    }
  }
}
