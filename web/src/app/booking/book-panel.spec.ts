import { signal } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { provideTestTranslations } from '../../testing/providers';
import { AuthService } from '../auth/auth.service';
import { Booking, TicketEvent } from '../core/models';
import { BookingClient, BookingOutcome } from './booking-client';
import { BookPanel } from './book-panel';

const event: TicketEvent = {
  id: 3,
  name: 'Gig',
  description: '',
  venue: 'Hall',
  starts_at: '2026-12-31T19:00:00Z',
  capacity: 10,
  price: '1500.00',
  currency: 'THB',
  max_per_booking: 4,
  tickets_sold: 2,
  available: 8,
  timezone: 'Asia/Bangkok',
};

const booking: Booking = {
  id: 9,
  user_id: 1,
  event_id: 3,
  quantity: 2,
  total_amount: '3000.00',
  status: 'CONFIRMED',
  booking_date: '2026-01-01T00:00:00Z',
  tickets: [
    { id: 1, code: 'code-one', booking_id: 9, event_id: 3, status: 'VALID', checked_in_at: null },
    { id: 2, code: 'code-two', booking_id: 9, event_id: 3, status: 'VALID', checked_in_at: null },
  ],
};

describe('BookPanel', () => {
  let fixture: ComponentFixture<BookPanel>;
  let book: ReturnType<typeof vi.fn<(id: number, quantity: number) => Promise<BookingOutcome>>>;

  const el = (testId: string) =>
    fixture.nativeElement.querySelector(`[data-testid="${testId}"]`) as HTMLElement | null;
  const select = () => el('quantity') as HTMLSelectElement;
  const button = () => el('book-button') as HTMLButtonElement;

  async function render(initial: TicketEvent): Promise<void> {
    book = vi.fn();
    TestBed.configureTestingModule({
      imports: [BookPanel],
      providers: [
        provideRouter([]),
        provideTestTranslations(),
        { provide: BookingClient, useValue: { book } },
        { provide: AuthService, useValue: { isSignedIn: signal(true) } },
      ],
    });
    fixture = TestBed.createComponent(BookPanel);
    fixture.componentRef.setInput('event', initial);
    await fixture.whenStable();
  }

  async function pickAndBook(quantity: number): Promise<void> {
    select().value = String(quantity);
    select().dispatchEvent(new Event('change'));
    await fixture.whenStable();
    button().click();
    await settle();
  }

  /** Lets the click handler's promise chain finish, then renders. */
  async function settle(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve));
    await fixture.whenStable();
  }

  it('offers 1..available when fewer are left than max_per_booking', async () => {
    await render({ ...event, available: 3 });
    expect(select().options.length).toBe(3);
  });

  it('offers 1..max_per_booking when plenty are left', async () => {
    await render({ ...event, available: 50 });
    expect(select().options.length).toBe(4);
  });

  it('disables the Book button and shows progress while the request is in flight', async () => {
    await render(event);
    let finish!: (outcome: BookingOutcome) => void;
    book.mockReturnValue(new Promise<BookingOutcome>((resolve) => (finish = resolve)));
    button().click();
    await fixture.whenStable();
    expect(button().disabled).toBe(true);
    expect(button().textContent).toContain('Booking…');
    button().click();
    expect(book).toHaveBeenCalledTimes(1);

    finish({ kind: 'booked', booking });
    await settle();
    expect(button().disabled).toBe(false);
    expect(el('booking-success')?.textContent).toContain('code-one');
  });

  it('books the picked quantity and shows the tickets', async () => {
    await render(event);
    book.mockResolvedValue({ kind: 'booked', booking });
    await pickAndBook(2);
    expect(book).toHaveBeenCalledWith(3, 2, expect.any(Function));
    const codes = [...fixture.nativeElement.querySelectorAll('[data-testid="booked-ticket-code"]')];
    expect(codes.map((c) => (c as HTMLElement).textContent)).toEqual(['code-one', 'code-two']);
    expect(fixture.componentInstance.event().available).toBe(6);
  });

  it('clamps the picker to what is left after sold_out and says how many remain', async () => {
    await render(event);
    book.mockResolvedValue({
      kind: 'sold_out',
      available: 1,
      event: { ...event, available: 1, tickets_sold: 9 },
    });
    await pickAndBook(3);
    expect(select().options.length).toBe(1);
    expect(select().value).toBe('1');
    expect(el('sold-out-message')?.textContent).toContain('only 1 left');
    expect(fixture.componentInstance.event().available).toBe(1);
  });

  it('disables booking when sold out', async () => {
    await render(event);
    book.mockResolvedValue({ kind: 'sold_out', available: 0, event: null });
    await pickAndBook(2);
    expect(el('sold-out-message')?.textContent).toContain('Sold out');
    expect(button().disabled).toBe(true);
    expect(select().disabled).toBe(true);
    expect(select().getAttribute('data-max')).toBe('0');
  });

  it("shows the contract's message for other errors", async () => {
    await render(event);
    book.mockResolvedValue({
      kind: 'failed',
      error: { status: 400, code: 'sales_closed', detail: 'Sales for this event are closed.' },
    });
    await pickAndBook(1);
    expect(el('booking-error')?.textContent).toContain('Sales for this event are closed.');
  });
});
