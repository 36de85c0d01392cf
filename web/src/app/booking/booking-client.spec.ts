import { HttpErrorResponse } from '@angular/common/http';
import { TestBed } from '@angular/core/testing';
import { Observable, of, throwError } from 'rxjs';
import { makeBooking, makeEvent, pendingBooking, ticketType } from '../../testing/fixtures';
import { Booking, BookingRequest } from '../core/models';
import { EventsApi } from '../events/events-api';
import { BookingClient } from './booking-client';
import { BookingsApi } from './bookings-api';
import { BOOKING_RETRY_POLICY, RetryPolicy } from './retry-policy';

const booking = makeBooking({ id: 7, tickets: [] });
const event = makeEvent({ available: 1, tickets_sold: 9 });
const items = [
  { ticket_type_id: 1, quantity: 2 },
  { ticket_type_id: 2, quantity: 1 },
];

function httpError(status: number, body: object = {}): HttpErrorResponse {
  return new HttpErrorResponse({ status, error: body });
}

/** Answers each create() call with the next scripted response and records the keys sent. */
class ScriptedBookingsApi {
  readonly keys: string[] = [];
  readonly requests: BookingRequest[] = [];
  constructor(private readonly script: Array<Booking | HttpErrorResponse>) {}
  create(request: BookingRequest, key: string): Observable<Booking> {
    this.keys.push(key);
    this.requests.push(structuredClone(request));
    const next = this.script.shift();
    if (!next) throw new Error('unexpected extra request');
    return next instanceof HttpErrorResponse ? throwError(() => next) : of(next);
  }
}

function setUp(script: Array<Booking | HttpErrorResponse>, eventsGet = vi.fn(() => of(event))) {
  const api = new ScriptedBookingsApi(script);
  const delays: number[] = [];
  let keyCount = 0;
  const policy: RetryPolicy = {
    maxRetries: 3,
    baseDelayMs: 100,
    maxDelayMs: 5000,
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
    newKey: () => `key-${++keyCount}`,
  };
  TestBed.configureTestingModule({
    providers: [
      { provide: BookingsApi, useValue: api },
      { provide: EventsApi, useValue: { get: eventsGet } },
      { provide: BOOKING_RETRY_POLICY, useValue: policy },
    ],
  });
  return { client: TestBed.inject(BookingClient), api, delays, eventsGet };
}

describe('BookingClient', () => {
  it('books a bare quantity on the first try with one key', async () => {
    const { client, api } = setUp([booking]);
    expect(await client.book(3, 2)).toEqual({ kind: 'booked', booking });
    expect(api.keys).toEqual(['key-1']);
    expect(api.requests).toEqual([{ event_id: 3, quantity: 2 }]);
  });

  it('books items, and a hold for payment comes back PENDING', async () => {
    const held = pendingBooking();
    const { client, api } = setUp([held]);
    expect(await client.book(3, items)).toEqual({ kind: 'booked', booking: held });
    expect(api.requests).toEqual([{ event_id: 3, items }]);
  });

  it('retries network errors, 503 and request_in_progress with the same key, the same items and growing delays', async () => {
    const { client, api, delays } = setUp([
      httpError(0),
      httpError(503, { detail: 'busy', code: 'unavailable' }),
      httpError(409, { detail: 'in progress', code: 'request_in_progress' }),
      booking,
    ]);
    const retries: number[] = [];
    const outcome = await client.book(3, items, (n) => retries.push(n));
    expect(outcome).toEqual({ kind: 'booked', booking });
    expect(api.keys).toEqual(['key-1', 'key-1', 'key-1', 'key-1']);
    expect(api.requests).toEqual(Array(4).fill({ event_id: 3, items }));
    expect(retries).toEqual([1, 2, 3]);
    expect(delays).toEqual([75, 150, 300]);
  });

  it('gives up after 3 retries and reports the last error', async () => {
    const unavailable = httpError(503, { detail: 'Service unavailable', code: 'unavailable' });
    const { client, api } = setUp([unavailable, unavailable, unavailable, unavailable, booking]);
    const outcome = await client.book(3, items);
    expect(outcome.kind).toBe('failed');
    expect(outcome.kind === 'failed' && outcome.error.code).toBe('unavailable');
    expect(api.keys.length).toBe(4);
  });

  it('makes a new key for each Book click', async () => {
    const { client, api } = setUp([booking, booking]);
    await client.book(3, items);
    await client.book(3, items);
    expect(api.keys).toEqual(['key-1', 'key-2']);
  });

  it('does not retry sold_out but refreshes the event', async () => {
    const { client, api, delays, eventsGet } = setUp([
      httpError(409, {
        detail: 'Tickets are no longer available.',
        code: 'sold_out',
        available: 1,
      }),
    ]);
    const outcome = await client.book(3, 2);
    expect(outcome).toEqual({ kind: 'sold_out', available: 1, items: [], event });
    expect(api.keys.length).toBe(1);
    expect(delays).toEqual([]);
    expect(eventsGet).toHaveBeenCalledWith(3);
  });

  it('says per item what is left after sold_out, from the fresher read', async () => {
    const fresh = makeEvent({
      available: 3,
      ticket_types: [
        ticketType({ id: 1, available: 3 }),
        ticketType({ id: 2, name: 'VIP', available: 0 }),
      ],
    });
    const { client, api } = setUp(
      [
        httpError(409, {
          detail: 'Tickets are no longer available.',
          code: 'sold_out',
          available: 4,
          items: [
            { ticket_type_id: 1, available: 4 },
            { ticket_type_id: 2, available: 0 },
          ],
        }),
      ],
      vi.fn(() => of(fresh)),
    );
    expect(await client.book(3, items)).toEqual({
      kind: 'sold_out',
      available: 3,
      items: [
        { ticket_type_id: 1, available: 3 },
        { ticket_type_id: 2, available: 0 },
      ],
      event: fresh,
    });
    expect(api.keys.length).toBe(1);
  });

  it('falls back to the sold_out body when the event cannot be refreshed', async () => {
    const failingGet = vi.fn(() => throwError(() => httpError(0)));
    const { client } = setUp(
      [
        httpError(409, {
          detail: 'gone',
          code: 'sold_out',
          available: 0,
          items: [{ ticket_type_id: 1, available: 0 }],
        }),
      ],
      failingGet,
    );
    expect(await client.book(3, items)).toEqual({
      kind: 'sold_out',
      available: 0,
      items: [{ ticket_type_id: 1, available: 0 }],
      event: null,
    });
  });

  it('does not retry customer_limit_reached and says what remains', async () => {
    const { client, api, delays } = setUp([
      httpError(409, { detail: 'Limit.', code: 'customer_limit_reached', remaining: 1 }),
    ]);
    expect(await client.book(3, items)).toEqual({ kind: 'limit', remaining: 1, event });
    expect(api.keys.length).toBe(1);
    expect(delays).toEqual([]);
  });

  it('re-reads the event when its types changed under the page', async () => {
    const { client, eventsGet } = setUp([
      httpError(422, { detail: 'Choose types.', code: 'ticket_type_required' }),
    ]);
    const outcome = await client.book(3, 2);
    expect(outcome.kind).toBe('types_changed');
    expect(outcome.kind === 'types_changed' && outcome.event).toEqual(event);
    expect(eventsGet).toHaveBeenCalledWith(3);
  });

  it('does not retry other 4xx and keeps the contract message', async () => {
    const { client, api } = setUp([
      httpError(400, {
        detail: 'Quantity above the per-booking limit.',
        code: 'quantity_above_limit',
      }),
    ]);
    const outcome = await client.book(3, 20);
    expect(outcome).toEqual({
      kind: 'failed',
      error: {
        status: 400,
        code: 'quantity_above_limit',
        detail: 'Quantity above the per-booking limit.',
      },
    });
    expect(api.keys.length).toBe(1);
  });
});
