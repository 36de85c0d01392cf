import { Component, inject, input, OnInit, signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { Router, RouterLink } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { firstValueFrom } from 'rxjs';
import { ApiError, toApiError } from '../core/api-error';
import { ConfigApi } from '../core/config-api';
import { Booking } from '../core/models';
import { ApiErrorPipe } from '../i18n/error-message';
import { LanguageService } from '../i18n/language.service';
import { MoneyPipe } from '../shared/format';
import { BookingsApi } from './bookings-api';
import { DevPaymentOutcome, PaymentsApi } from './payments-api';

/**
 * The development payment page (`/checkout/:id/pay`), offered only when the service says
 * `dev_payments`: it plays the payment provider, whose webhook the service signs and delivers
 * to itself, so the whole checkout can be walked and tested without an outside provider.
 */
@Component({
  selector: 'app-dev-payment-page',
  imports: [ApiErrorPipe, RouterLink, TranslatePipe, MoneyPipe],
  templateUrl: './dev-payment-page.html',
})
export class DevPaymentPage implements OnInit {
  readonly id = input.required<string>();
  private readonly bookingsApi = inject(BookingsApi);
  private readonly payments = inject(PaymentsApi);
  private readonly router = inject(Router);
  protected readonly lang = inject(LanguageService).current;
  protected readonly config = toSignal(inject(ConfigApi).config$, { initialValue: null });
  protected readonly booking = signal<Booking | null>(null);
  protected readonly busy = signal(false);
  protected readonly declined = signal(false);
  protected readonly error = signal<ApiError | null>(null);

  async ngOnInit(): Promise<void> {
    try {
      this.booking.set(await firstValueFrom(this.bookingsApi.get(Number(this.id()))));
    } catch (caught) {
      this.error.set(toApiError(caught));
    }
  }

  protected async pay(outcome: DevPaymentOutcome): Promise<void> {
    const reference = this.booking()?.payment?.reference;
    if (!reference || this.busy()) return;
    this.busy.set(true);
    this.error.set(null);
    this.declined.set(false);
    try {
      // Not retried on a lost answer: a second delivery would be a second provider event.
      await firstValueFrom(this.payments.devPay(reference, outcome));
      if (outcome === 'succeeded') {
        await this.router.navigate(['/checkout', this.id()]);
      } else {
        this.declined.set(true);
      }
    } catch (caught) {
      this.error.set(toApiError(caught));
    } finally {
      this.busy.set(false);
    }
  }
}
