import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { of } from 'rxjs';
import { provideTestTranslations } from '../../testing/providers';
import { Booking, TicketEvent } from '../core/models';
import { EventsApi } from '../events/events-api';
import { BookingsApi } from './bookings-api';
import { MyBookings } from './my-bookings';

const booking: Booking = {
  id: 5,
  user_id: 1,
  event_id: 3,
  quantity: 1,
  total_amount: '100.00',
  status: 'CONFIRMED',
  booking_date: '2026-01-01T00:00:00Z',
  tickets: [
    { id: 1, code: 'tkt-1', booking_id: 5, event_id: 3, status: 'VALID', checked_in_at: null },
  ],
};
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
  const q = (testId: string) =>
    fixture.nativeElement.querySelector(`[data-testid="${testId}"]`) as HTMLElement | null;

  beforeEach(async () => {
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
