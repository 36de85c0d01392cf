import { ComponentFixture, TestBed } from '@angular/core/testing';
import { of } from 'rxjs';
import { makeBooking, makeEvent, pendingBooking } from '../../testing/fixtures';
import { provideTestTranslations } from '../../testing/providers';
import { BookingsApi } from '../booking/bookings-api';
import { Booking, BookingFilter } from '../core/models';
import { actionsFor, AdminBookings } from './admin-bookings';

const due = pendingBooking({
  id: 21,
  buyer: { id: 4, name: 'Nok Transfer', email: 'nok@example.com' },
});
const paid = makeBooking({
  id: 22,
  payment: { status: 'paid', amount: '3000.00', currency: 'THB', reference: 'PAID-REF' },
});

describe('AdminBookings', () => {
  let fixture: ComponentFixture<AdminBookings>;
  let list: ReturnType<typeof vi.fn<(filter: BookingFilter) => ReturnType<BookingsApi['list']>>>;
  let markPaid: ReturnType<typeof vi.fn>;
  const root = () => fixture.nativeElement as HTMLElement;
  const row = (id: number) =>
    root().querySelector(`[data-testid="sales-booking"][data-booking-id="${id}"]`) as HTMLElement;
  const inRow = (id: number, testId: string) =>
    row(id)?.querySelector(`[data-testid="${testId}"]`) as HTMLElement | null;

  async function render(bookings: Booking[]): Promise<void> {
    list = vi.fn(() => of({ items: bookings, total: bookings.length, limit: 200, offset: 0 }));
    markPaid = vi.fn(() =>
      of({
        ...due,
        status: 'CONFIRMED' as const,
        expires_at: null,
        payment: { ...due.payment, status: 'paid' as const },
      }),
    );
    TestBed.configureTestingModule({
      providers: [
        provideTestTranslations(),
        { provide: BookingsApi, useValue: { list, markPaid } },
      ],
    });
    fixture = TestBed.createComponent(AdminBookings);
    fixture.componentRef.setInput('event', makeEvent());
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(root().querySelectorAll('[data-testid="sales-booking"]').length).toBe(bookings.length);
    });
  }

  afterEach(() => fixture?.destroy());

  it('offers what fits each booking', () => {
    expect(actionsFor(due)).toEqual(['mark-paid', 'cancel']);
    expect(actionsFor(paid)).toEqual(['cancel']);
    expect(
      actionsFor({
        ...paid,
        status: 'CANCELLED',
        payment: { ...paid.payment, status: 'refund_due' },
      }),
    ).toEqual(['mark-refunded']);
    expect(
      actionsFor({ ...paid, status: 'EXPIRED', payment: { ...paid.payment, status: 'none' } }),
    ).toEqual([]);
  });

  it('names the buyer, not a bare user id', async () => {
    await render([due]);
    expect(inRow(21, 'buyer-name')?.textContent).toBe('Nok Transfer');
    expect(inRow(21, 'buyer-email')?.textContent).toBe('nok@example.com');
    expect(inRow(21, 'row-payment')?.textContent?.trim()).toBe('Payment due');
    expect(inRow(21, 'row-reference')?.textContent).toBe('REF-123');
  });

  it('marks paid only after the organiser confirms', async () => {
    await render([due, paid]);
    inRow(21, 'mark-paid')?.click();
    await fixture.whenStable();
    expect(markPaid).not.toHaveBeenCalled();
    expect(row(21).textContent).toContain('Mark booking #21 paid?');
    inRow(21, 'confirm-action')?.click();
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(inRow(21, 'row-status')?.textContent?.trim()).toBe('Confirmed');
    });
    expect(markPaid).toHaveBeenCalledWith(21);
    expect(inRow(21, 'row-payment')?.textContent?.trim()).toBe('Paid');
    expect(inRow(21, 'mark-paid')).toBeNull();
  });

  it('keeps the booking as it is when the organiser says no', async () => {
    await render([due]);
    inRow(21, 'mark-paid')?.click();
    await fixture.whenStable();
    inRow(21, 'cancel-action')?.click();
    await fixture.whenStable();
    expect(markPaid).not.toHaveBeenCalled();
    expect(inRow(21, 'mark-paid')).not.toBeNull();
  });

  it('filters by status, payment status and an exact reference', async () => {
    await render([due]);
    const select = (testId: string, value: string) => {
      const element = root().querySelector(`[data-testid="${testId}"]`) as HTMLSelectElement;
      element.value = value;
      element.dispatchEvent(new Event('change'));
    };
    select('filter-status', 'PENDING');
    select('filter-payment', 'due');
    const search = root().querySelector('[data-testid="reference-search"]') as HTMLInputElement;
    search.value = '  REF-123 ';
    search.dispatchEvent(new Event('input'));
    (root().querySelector('[data-testid="reference-search-submit"]') as HTMLElement).click();
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(list).toHaveBeenLastCalledWith({
        eventId: 3,
        status: 'PENDING',
        paymentStatus: 'due',
        reference: 'REF-123',
      });
    });
  });
});
