import { HttpClient } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';
import { API } from '../core/api';
import { PaymentResult } from '../core/models';

export type DevPaymentOutcome = 'succeeded' | 'failed';

/**
 * The development payment provider (only when the service runs with TICKETING_DEV_PAYMENTS):
 * the service signs a provider webhook for the booking with this reference and delivers it to
 * itself, so the whole flow can be walked without an outside provider.
 */
@Injectable({ providedIn: 'root' })
export class PaymentsApi {
  private readonly http = inject(HttpClient);

  devPay(reference: string, outcome: DevPaymentOutcome): Observable<PaymentResult> {
    return this.http.post<PaymentResult>(`${API}/dev/payments`, { reference, outcome });
  }
}
