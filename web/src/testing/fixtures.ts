import { Booking, Ticket, TicketEvent, TicketType } from '../app/core/models';

/** A ticket type of event 3; override what the test is about. */
export function ticketType(overrides: Partial<TicketType> = {}): TicketType {
  return {
    id: 31,
    event_id: 3,
    name: 'General admission',
    price: '1500.00',
    capacity: null,
    tickets_sold: 2,
    tickets_held: 0,
    available: 8,
    ...overrides,
  };
}

/** Event 3 ("Gig"), instant checkout, one type unless `ticket_types` is given. */
export function makeEvent(overrides: Partial<TicketEvent> = {}): TicketEvent {
  const available = overrides.available ?? 8;
  return {
    id: 3,
    name: 'Gig',
    description: '',
    venue: 'Hall',
    starts_at: '2026-12-31T12:00:00Z',
    capacity: 10,
    price: '1500.00',
    currency: 'THB',
    max_per_booking: 4,
    tickets_sold: 2,
    tickets_held: 0,
    available,
    timezone: 'Asia/Bangkok',
    checkout: 'instant',
    hold_minutes: 15,
    per_customer_limit: null,
    ticket_types: [ticketType({ available })],
    my_remaining: null,
    ...overrides,
  };
}

export function makeTicket(overrides: Partial<Ticket> = {}): Ticket {
  return {
    id: 1,
    code: 'tkt-1',
    booking_id: 9,
    event_id: 3,
    ticket_type_id: 31,
    status: 'VALID',
    checked_in_at: null,
    ...overrides,
  };
}

/** Booking 9 of event 3: two General admission tickets, confirmed and paid at the door. */
export function makeBooking(overrides: Partial<Booking> = {}): Booking {
  return {
    id: 9,
    user_id: 1,
    event_id: 3,
    quantity: 2,
    total_amount: '3000.00',
    currency: 'THB',
    status: 'CONFIRMED',
    booking_date: '2026-01-01T00:00:00Z',
    expires_at: null,
    items: [{ ticket_type_id: 31, name: 'General admission', quantity: 2, unit_price: '1500.00' }],
    payment: { status: 'none', amount: '3000.00', currency: 'THB', reference: null },
    buyer: { id: 1, name: 'Fan', email: 'fan@example.com' },
    tickets: [makeTicket({ id: 1, code: 'code-one' }), makeTicket({ id: 2, code: 'code-two' })],
    ...overrides,
  };
}

/** A PENDING booking on a payment event: held until `expires_at`, payment due. */
export function pendingBooking(overrides: Partial<Booking> = {}): Booking {
  return makeBooking({
    status: 'PENDING',
    expires_at: '2026-01-01T00:15:00Z',
    payment: { status: 'due', amount: '3000.00', currency: 'THB', reference: 'REF-123' },
    tickets: [],
    ...overrides,
  });
}
