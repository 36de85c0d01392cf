import { HttpErrorResponse } from '@angular/common/http';
import { signal } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { TranslateService } from '@ngx-translate/core';
import { firstValueFrom, Observable, of, throwError } from 'rxjs';
import { makeBooking, makeEvent, pendingBooking, ticketType } from '../../testing/fixtures';
import { countingKeysPolicy, provideTestTranslations } from '../../testing/providers';
import { AuthService } from '../auth/auth.service';
import { Booking, BookingRequest, TicketEvent, User } from '../core/models';
import { EventsApi } from '../events/events-api';
import { BookingClient, BookingOutcome, Order } from './booking-client';
import { BookPanel } from './book-panel';
import { BookingsApi } from './bookings-api';
import { BOOKING_RETRY_POLICY } from './retry-policy';

const event = makeEvent();
const booking = makeBooking();

const standard = ticketType({ id: 1, name: 'Standard', price: '500.00', available: 6 });
const vip = ticketType({ id: 2, name: 'VIP', price: '2000.00', capacity: 2, available: 2 });
const early = ticketType({ id: 3, name: 'Early bird', price: '300.00', capacity: 4, available: 0 });
const shop = makeEvent({
  checkout: 'payment',
  available: 6,
  max_per_booking: 5,
  price: '300.00',
  ticket_types: [standard, vip, early],
});

describe('BookPanel', () => {
  let fixture: ComponentFixture<BookPanel>;
  let book: ReturnType<typeof vi.fn<(id: number, order: Order) => Promise<BookingOutcome>>>;

  const root = () => fixture.nativeElement as HTMLElement;
  const el = (testId: string) =>
    root().querySelector(`[data-testid="${testId}"]`) as HTMLElement | null;
  const select = () => el('quantity') as HTMLSelectElement;
  const button = () => el('book-button') as HTMLButtonElement;
  const row = (name: string) =>
    root().querySelector(`[data-testid="ticket-type"][data-type-name="${name}"]`) as HTMLElement;
  const typeSelect = (name: string) =>
    row(name).querySelector('[data-testid="type-quantity"]') as HTMLSelectElement;

  async function render(initial: TicketEvent, signedIn = true): Promise<void> {
    book = vi.fn();
    TestBed.configureTestingModule({
      imports: [BookPanel],
      providers: [
        provideRouter([]),
        provideTestTranslations(),
        { provide: BookingClient, useValue: { book } },
        { provide: AuthService, useValue: { isSignedIn: signal(signedIn) } },
      ],
    });
    fixture = TestBed.createComponent(BookPanel);
    fixture.componentRef.setInput('event', initial);
    await fixture.whenStable();
  }

  async function choose(target: HTMLSelectElement, quantity: number): Promise<void> {
    target.value = String(quantity);
    target.dispatchEvent(new Event('change'));
    await fixture.whenStable();
  }

  async function pickAndBook(quantity: number): Promise<void> {
    await choose(select(), quantity);
    button().click();
    await settle();
  }

  /** Lets the click handler's promise chain finish, then renders. */
  async function settle(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve));
    await fixture.whenStable();
  }

  describe('with one ticket type', () => {
    it('offers 1..available when fewer are left than max_per_booking', async () => {
      await render(makeEvent({ available: 3 }));
      expect(select().options.length).toBe(3);
    });

    it('offers 1..max_per_booking when plenty are left', async () => {
      await render(makeEvent({ available: 50 }));
      expect(select().options.length).toBe(4);
    });

    it('offers no more than the per-customer limit leaves, and says so', async () => {
      await render(makeEvent({ available: 50, per_customer_limit: 4, my_remaining: 2 }));
      expect(select().options.length).toBe(2);
      expect(el('my-remaining')?.textContent).toContain('You can book 2 more ticket(s)');
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

    it('books the picked quantity of the one type and shows the tickets', async () => {
      await render(event);
      book.mockResolvedValue({ kind: 'booked', booking });
      await pickAndBook(2);
      expect(book).toHaveBeenCalledWith(
        3,
        [{ ticket_type_id: 31, quantity: 2 }],
        expect.any(Function),
      );
      const codes = [...root().querySelectorAll('[data-testid="booked-ticket-code"]')];
      expect(codes.map((c) => c.textContent)).toEqual(['code-one', 'code-two']);
      expect(fixture.componentInstance.event().available).toBe(6);
    });

    it('clamps the picker to what is left after sold_out and says how many remain', async () => {
      await render(event);
      book.mockResolvedValue({
        kind: 'sold_out',
        available: 1,
        items: [{ ticket_type_id: 31, available: 1 }],
        event: makeEvent({ available: 1, tickets_sold: 9 }),
      });
      await pickAndBook(3);
      expect(select().options.length).toBe(1);
      expect(select().value).toBe('1');
      expect(el('sold-out-message')?.textContent).toContain('only 1 left');
      expect(fixture.componentInstance.event().available).toBe(1);
    });

    it('disables booking when sold out', async () => {
      await render(event);
      book.mockResolvedValue({ kind: 'sold_out', available: 0, items: [], event: null });
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

  describe('with several ticket types', () => {
    it('shows every type with its price and what is left, sold-out ones disabled', async () => {
      await render(shop);
      const rows = [...root().querySelectorAll('[data-testid="ticket-type"]')];
      expect(rows.map((r) => r.getAttribute('data-type-name'))).toEqual([
        'Standard',
        'VIP',
        'Early bird',
      ]);
      expect(row('VIP').textContent).toContain('2,000.00');
      expect(row('VIP').textContent).toContain('2 left');
      expect(row('Early bird').textContent).toContain('Sold out');
      expect(typeSelect('Early bird').disabled).toBe(true);
      expect(el('quantity')).toBeNull();
    });

    it('bounds each picker by its type and the rest of max_per_booking', async () => {
      await render(shop);
      expect(typeSelect('Standard').options.length).toBe(6); // 0..5: max_per_booking
      expect(typeSelect('VIP').options.length).toBe(3); // 0..2: its own cap
      await choose(typeSelect('VIP'), 2);
      expect(typeSelect('Standard').getAttribute('data-max')).toBe('3');
      expect(el('order-total')?.textContent).toContain('2 ticket(s)');
      expect(el('order-total')?.textContent).toContain('4,000.00');
      await choose(typeSelect('Standard'), 3);
      expect(typeSelect('VIP').getAttribute('data-max')).toBe('2');
      expect(el('order-total')?.textContent).toContain('5 ticket(s)');
    });

    it('cannot book nothing', async () => {
      await render(shop);
      expect(button().disabled).toBe(true);
      expect(button().textContent).toContain('Reserve and pay');
    });

    it('holds the picked items and goes on to the checkout page', async () => {
      await render(shop);
      const navigate = vi.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
      book.mockResolvedValue({ kind: 'booked', booking: pendingBooking({ id: 44 }) });
      await choose(typeSelect('Standard'), 2);
      await choose(typeSelect('VIP'), 1);
      button().click();
      await settle();
      expect(book).toHaveBeenCalledWith(
        3,
        [
          { ticket_type_id: 1, quantity: 2 },
          { ticket_type_id: 2, quantity: 1 },
        ],
        expect.any(Function),
      );
      expect(navigate).toHaveBeenCalledWith(['/checkout', 44]);
      const after = fixture.componentInstance.event();
      expect(after.tickets_held).toBe(3);
      expect(after.available).toBe(3);
    });

    it('says per type what was short after sold_out and clamps the pickers', async () => {
      await render(shop);
      const refreshed = {
        ...shop,
        available: 4,
        ticket_types: [{ ...standard, available: 4 }, { ...vip, available: 0 }, early],
      };
      book.mockResolvedValue({
        kind: 'sold_out',
        available: 4,
        items: [
          { ticket_type_id: 1, available: 4 },
          { ticket_type_id: 2, available: 0 },
        ],
        event: refreshed,
      });
      await choose(typeSelect('Standard'), 3);
      await choose(typeSelect('VIP'), 2);
      button().click();
      await settle();
      const lines = [...root().querySelectorAll('[data-testid="sold-out-item"]')];
      expect(lines.map((l) => l.textContent?.trim())).toEqual(['VIP: sold out.']);
      expect(el('sold-out-message')?.textContent).toContain('cut to what is left');
      expect(typeSelect('VIP').value).toBe('0');
      expect(typeSelect('VIP').disabled).toBe(true);
      expect(typeSelect('Standard').value).toBe('3');
      expect(button().disabled).toBe(false);
    });

    it('explains the per-customer limit and clamps to what remains', async () => {
      await render({ ...shop, per_customer_limit: 4, my_remaining: 4 });
      book.mockResolvedValue({ kind: 'limit', remaining: 1, event: null });
      await choose(typeSelect('Standard'), 3);
      button().click();
      await settle();
      const error = el('booking-error');
      expect(error?.getAttribute('data-code')).toBe('customer_limit_reached');
      expect(error?.textContent).toContain('only 1 more ticket(s)');
      expect(el('my-remaining')?.textContent).toContain('You can book 1 more');
      expect(typeSelect('Standard').value).toBe('1');
      expect(typeSelect('Standard').getAttribute('data-max')).toBe('1');
    });

    it('shows the types and prices to visitors who are not signed in, without pickers', async () => {
      await render(shop, false);
      expect(root().querySelectorAll('[data-testid="ticket-type"]').length).toBe(3);
      expect(root().querySelector('[data-testid="type-quantity"]')).toBeNull();
      expect(el('sign-in-to-book')).not.toBeNull();
    });
  });
});

/**
 * Book clicks through the real BookingClient, down to the keys sent: a booking whose outcome is
 * unknown keeps its key for the next click with the same order, and only for that.
 */
describe('BookPanel after an unknown outcome', () => {
  let fixture: ComponentFixture<BookPanel>;
  let script: Array<Booking | HttpErrorResponse>;
  let sent: Array<{ key: string; request: BookingRequest }>;
  const buyer = (id: number) => ({ id, email: `b${id}@example.com`, name: 'B', role: 'customer' });
  const user = signal<User | null>(null);

  const root = () => fixture.nativeElement as HTMLElement;
  const el = (testId: string) =>
    root().querySelector(`[data-testid="${testId}"]`) as HTMLElement | null;
  const select = () => el('quantity') as HTMLSelectElement;
  const keys = () => sent.map((s) => s.key);
  const lost = () => new HttpErrorResponse({ status: 0 });
  const gaveUp = () => [lost(), lost(), lost(), lost()];

  beforeEach(async () => {
    script = [];
    sent = [];
    user.set(buyer(7) as User);
    const policy = countingKeysPolicy();
    const create = (request: BookingRequest, key: string): Observable<Booking> => {
      sent.push({ key, request: structuredClone(request) });
      const next = script.shift();
      if (!next) throw new Error('unexpected extra request');
      return next instanceof HttpErrorResponse ? throwError(() => next) : of(next);
    };
    TestBed.configureTestingModule({
      imports: [BookPanel],
      providers: [
        provideRouter([]),
        provideTestTranslations(),
        { provide: BookingsApi, useValue: { create } },
        { provide: EventsApi, useValue: { get: () => of(makeEvent()) } },
        { provide: BOOKING_RETRY_POLICY, useValue: policy },
        { provide: AuthService, useValue: { isSignedIn: signal(true), user } },
      ],
    });
    fixture = TestBed.createComponent(BookPanel);
    fixture.componentRef.setInput('event', makeEvent());
    await fixture.whenStable();
  });

  async function choose(quantity: number): Promise<void> {
    select().value = String(quantity);
    select().dispatchEvent(new Event('change'));
    await fixture.whenStable();
  }

  /** Clicks Book and waits until the click's attempts are over. */
  async function click(): Promise<void> {
    (el('book-button') as HTMLButtonElement).click();
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(el('book-button')?.getAttribute('aria-busy')).toBe('false');
    });
  }

  it('says the booking may have gone through, and books the same order again with its key', async () => {
    script = [...gaveUp(), makeBooking(), makeBooking()];
    await choose(2);
    await click();
    expect(keys()).toEqual(['key-1', 'key-1', 'key-1', 'key-1']);
    const error = el('booking-error');
    expect(error?.classList).toContain('alert-warn');
    expect(el('booking-unknown')?.textContent).toContain('may have gone through');
    expect(el('booking-unknown')?.textContent).toContain('My bookings');
    expect(el('check-bookings')?.getAttribute('href')).toBe('/bookings');
    await firstValueFrom(TestBed.inject(TranslateService).use('th'));
    await fixture.whenStable();
    expect(el('booking-unknown')?.textContent).toContain('การจองของคุณอาจสำเร็จแล้ว');
    expect(el('check-bookings')?.textContent).toContain('การจองของฉัน');

    await click();
    expect(keys()).toEqual(['key-1', 'key-1', 'key-1', 'key-1', 'key-1']);
    expect(sent[4].request).toEqual(sent[0].request);
    expect(el('booking-success')).not.toBeNull();
    expect(el('booking-unknown')).toBeNull();

    // Booked (201): the next booking is a new one, with a new key.
    await click();
    expect(keys().slice(5)).toEqual(['key-2']);
  });

  it('makes a new key when the order changed', async () => {
    script = [...gaveUp(), makeBooking()];
    await choose(2);
    await click();
    await choose(3);
    await click();
    expect(keys()).toEqual(['key-1', 'key-1', 'key-1', 'key-1', 'key-2']);
    expect(sent[4].request).toEqual({
      event_id: 3,
      items: [{ ticket_type_id: 31, quantity: 3 }],
    });
  });

  it('makes a new key for another buyer', async () => {
    script = [...gaveUp(), makeBooking()];
    await choose(2);
    await click();
    user.set(buyer(8) as User);
    await click();
    expect(keys().slice(4)).toEqual(['key-2']);
  });

  it('makes a new key after a final answer to the reused one', async () => {
    const unavailable = new HttpErrorResponse({
      status: 503,
      error: { detail: 'Service unavailable', code: 'unavailable' },
    });
    const closed = new HttpErrorResponse({
      status: 400,
      error: { detail: 'Sales for this event are closed.', code: 'sales_closed' },
    });
    script = [unavailable, unavailable, unavailable, unavailable, closed, makeBooking()];
    await choose(2);
    await click();
    await click();
    expect(el('booking-error')?.getAttribute('data-code')).toBe('sales_closed');
    expect(el('booking-error')?.classList).toContain('alert-danger');
    expect(el('booking-unknown')).toBeNull();
    await click();
    expect(keys()).toEqual(['key-1', 'key-1', 'key-1', 'key-1', 'key-1', 'key-2']);
  });
});
