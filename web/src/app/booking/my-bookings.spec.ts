import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { of } from 'rxjs';
import { makeBooking, makeTicket, pendingBooking } from '../../testing/fixtures';
import { provideTestTranslations } from '../../testing/providers';
import { Booking, TicketEvent } from '../core/models';
import { EventsApi } from '../events/events-api';
import { BookingsApi } from './bookings-api';
import { MyBookings } from './my-bookings';

const booking: Booking = makeBooking({
  id: 5,
  quantity: 1,
  total_amount: '100.00',
  items: [{ ticket_type_id: 31, name: 'General admission', quantity: 1, unit_price: '100.00' }],
  tickets: [makeTicket({ id: 1, code: 'tkt-1', booking_id: 5 })],
});
const event = {
  id: 3,
  name: 'Gig',
  starts_at: '2026-12-31T19:00:00Z',
  venue: 'Hall',
  currency: 'THB',
} as TicketEvent;

describe('MyBookings', () => {
  let fixture: ComponentFixture<MyBookings>;
  let cancel: ReturnType<typeof vi.fn>;
  let resendTickets: ReturnType<typeof vi.fn>;
  const q = (testId: string) =>
    fixture.nativeElement.querySelector(`[data-testid="${testId}"]`) as HTMLElement | null;

  beforeEach(async () => {
    resendTickets = vi.fn(() => of({ id: 9, status: 'pending' }));
    cancel = vi.fn(() =>
      of({ ...booking, status: 'CANCELLED', tickets: [{ ...booking.tickets[0], status: 'VOID' }] }),
    );
    TestBed.configureTestingModule({
      imports: [MyBookings],
      providers: [
        provideRouter([]),
        provideTestTranslations(),
        {
          provide: BookingsApi,
          useValue: {
            list: () => of({ items: [booking], total: 1, limit: 200, offset: 0 }),
            cancel,
            resendTickets,
          },
        },
        { provide: EventsApi, useValue: { get: () => of(event) } },
      ],
    });
    fixture = TestBed.createComponent(MyBookings);
    await fixture.whenStable();
    // the QR code is drawn asynchronously
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(q('ticket-qr')).not.toBeNull();
    });
  });

  it('shows each ticket with its code, a QR image and status', () => {
    expect(q('ticket-code')?.textContent).toBe('tkt-1');
    expect(q('ticket-qr')?.getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    expect(q('ticket-status')?.textContent?.trim()).toBe('Valid');
    expect(q('booking-card')?.textContent).toContain('Gig');
  });

  it('emails the tickets of a confirmed booking again, and says so', async () => {
    expect(q('resent')).toBeNull();
    q('resend-tickets')?.click();
    await fixture.whenStable();
    expect(resendTickets).toHaveBeenCalledWith(5);
    expect(q('resent')?.textContent).toContain('Sent');
  });

  it('cancels only after confirmation', async () => {
    q('cancel-booking')?.click();
    await fixture.whenStable();
    expect(cancel).not.toHaveBeenCalled();
    q('confirm-cancel')?.click();
    await fixture.whenStable();
    expect(cancel).toHaveBeenCalledWith(5);
    expect(q('booking-status')?.textContent?.trim()).toBe('Cancelled');
    expect(q('ticket-status')?.textContent?.trim()).toBe('Void');
    expect(q('cancel-booking')).toBeNull();
  });

  it('keeps the booking when the user changes their mind', async () => {
    q('cancel-booking')?.click();
    await fixture.whenStable();
    q('keep-booking')?.click();
    await fixture.whenStable();
    expect(cancel).not.toHaveBeenCalled();
    expect(q('cancel-booking')).not.toBeNull();
  });
});

describe('MyBookings with holds', () => {
  async function render(bookings: Booking[]) {
    TestBed.configureTestingModule({
      imports: [MyBookings],
      providers: [
        provideRouter([]),
        provideTestTranslations(),
        {
          provide: BookingsApi,
          useValue: {
            list: () => of({ items: bookings, total: bookings.length, limit: 200, offset: 0 }),
          },
        },
        { provide: EventsApi, useValue: { get: () => of(event) } },
      ],
    });
    const fixture = TestBed.createComponent(MyBookings);
    await fixture.whenStable();
    const card = (id: number) =>
      (fixture.nativeElement as HTMLElement).querySelector(
        `[data-testid="booking-card"][data-booking-id="${id}"]`,
      ) as HTMLElement;
    return { fixture, card };
  }
  const inCard = (card: HTMLElement, testId: string) =>
    card.querySelector(`[data-testid="${testId}"]`) as HTMLElement | null;

  it('shows a hold with its countdown, what is due and where to pay', async () => {
    const hold = pendingBooking({
      id: 8,
      expires_at: new Date(Date.now() + 10 * 60_000).toISOString(),
    });
    const { fixture, card } = await render([hold]);
    expect(inCard(card(8), 'booking-status')?.textContent?.trim()).toBe('Awaiting payment');
    expect(inCard(card(8), 'payment-status')?.textContent?.trim()).toBe('Payment due');
    expect(inCard(card(8), 'countdown')?.textContent).toMatch(/^(9|10):\d\d$/);
    expect(inCard(card(8), 'complete-payment')?.getAttribute('href')).toBe('/checkout/8');
    expect(inCard(card(8), 'ticket')).toBeNull();
    fixture.destroy();
  });

  it('says an expired hold went back on sale, and nothing is due any more', async () => {
    const expired = pendingBooking({ id: 8, status: 'EXPIRED', expires_at: null });
    const refunded = makeBooking({
      id: 6,
      status: 'CANCELLED',
      payment: { status: 'refunded', amount: '3000.00', currency: 'THB', reference: 'R' },
    });
    const { fixture, card } = await render([expired, refunded]);
    expect(inCard(card(8), 'booking-status')?.textContent?.trim()).toBe('Expired');
    expect(inCard(card(8), 'expired-note')).not.toBeNull();
    expect(inCard(card(8), 'payment-status')).toBeNull();
    expect(inCard(card(8), 'cancel-booking')).toBeNull();
    expect(inCard(card(6), 'payment-status')?.textContent?.trim()).toBe('Refunded');
    fixture.destroy();
  });
});
