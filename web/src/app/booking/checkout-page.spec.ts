import { HttpErrorResponse } from '@angular/common/http';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { Observable, of, throwError } from 'rxjs';
import { makeBooking, makeEvent, pendingBooking } from '../../testing/fixtures';
import { provideTestTranslations } from '../../testing/providers';
import { ConfigApi } from '../core/config-api';
import { Booking } from '../core/models';
import { EventsApi } from '../events/events-api';
import { BookingsApi } from './bookings-api';
import { CheckoutPage } from './checkout-page';

const inAQuarterHour = () => new Date(Date.now() + 15 * 60_000).toISOString();

describe('CheckoutPage', () => {
  let fixture: ComponentFixture<CheckoutPage>;
  let get: ReturnType<typeof vi.fn<(id: number) => Observable<Booking>>>;
  const root = () => fixture.nativeElement as HTMLElement;
  const el = (testId: string) =>
    root().querySelector(`[data-testid="${testId}"]`) as HTMLElement | null;

  async function render(answers: Array<Booking | HttpErrorResponse>, devPayments = true) {
    get = vi.fn(() => {
      const next = answers.length > 1 ? answers.shift()! : answers[0];
      return next instanceof HttpErrorResponse ? throwError(() => next) : of(next);
    });
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideTestTranslations(),
        { provide: BookingsApi, useValue: { get } },
        { provide: EventsApi, useValue: { get: () => of(makeEvent()) } },
        { provide: ConfigApi, useValue: { config$: of({ dev_payments: devPayments }) } },
      ],
    });
    fixture = TestBed.createComponent(CheckoutPage);
    fixture.componentRef.setInput('id', '9');
    await shown('checkout');
  }

  async function shown(testId: string) {
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(el(testId) ?? el('checkout-not-found')).not.toBeNull();
    });
  }

  afterEach(() => fixture?.destroy());

  it('shows a hold: items, total, the time left and how to pay', async () => {
    await render([pendingBooking({ expires_at: inAQuarterHour() })]);
    expect(get).toHaveBeenCalledWith(9);
    expect(el('checkout')?.getAttribute('data-status')).toBe('PENDING');
    expect(root().querySelectorAll('[data-testid="checkout-item"]').length).toBe(1);
    expect(el('checkout-total')?.textContent).toContain('3,000.00');
    expect(el('countdown')?.textContent).toMatch(/^1[45]:\d\d$/);
    expect(el('payment-reference')?.textContent).toBe('REF-123');
    expect(el('go-dev-pay')?.getAttribute('href')).toBe('/checkout/9/pay');
    expect(el('ticket-qr')).toBeNull();
  });

  it('offers the development payment page only when the service has it', async () => {
    await render([pendingBooking({ expires_at: inAQuarterHour() })], false);
    expect(el('payment-reference')).not.toBeNull();
    expect(el('go-dev-pay')).toBeNull();
  });

  it('re-reads the booking when the countdown runs out, and says it expired', async () => {
    const expiredJustNow = new Date(Date.now() - 1000).toISOString();
    await render([
      pendingBooking({ expires_at: expiredJustNow }),
      pendingBooking({ status: 'EXPIRED', expires_at: null }),
    ]);
    await shown('checkout-expired');
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(el('checkout')?.getAttribute('data-status')).toBe('EXPIRED');
    });
    expect(get.mock.calls.length).toBeGreaterThanOrEqual(2);
    expect(el('try-again')?.getAttribute('href')).toBe('/events/3');
    expect(el('payment-instructions')).toBeNull();
    expect(el('countdown')).toBeNull();
  });

  it('says a late payment will be refunded', async () => {
    await render([
      pendingBooking({
        status: 'EXPIRED',
        expires_at: null,
        payment: { status: 'refund_due', amount: '3000.00', currency: 'THB', reference: 'R' },
      }),
    ]);
    expect(el('checkout-refund-due')).not.toBeNull();
  });

  it('shows the tickets with QR codes once paid', async () => {
    await render([
      makeBooking({
        payment: { status: 'paid', amount: '3000.00', currency: 'THB', reference: 'REF-123' },
      }),
    ]);
    expect(el('checkout-paid')).not.toBeNull();
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(root().querySelectorAll('[data-testid="ticket-qr"]').length).toBe(2);
    });
    expect(el('payment-instructions')).toBeNull();
  });

  it('shows nothing of a booking that is not the caller’s', async () => {
    await render([
      new HttpErrorResponse({
        status: 404,
        error: { detail: 'Booking not found', code: 'booking_not_found' },
      }),
    ]);
    expect(el('checkout-not-found')).not.toBeNull();
    expect(el('checkout')).toBeNull();
  });
});
