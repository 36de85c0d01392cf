import { HttpErrorResponse } from '@angular/common/http';
import { TestBed } from '@angular/core/testing';
import { Observable, of, throwError } from 'rxjs';
import { Booking, BookingRequest, TicketEvent } from '../core/models';
import { EventsApi } from '../events/events-api';
import { BookingClient } from './booking-client';
import { BookingsApi } from './bookings-api';
import { BOOKING_RETRY_POLICY, RetryPolicy } from './retry-policy';

const booking: Booking = {
  id: 7,
  user_id: 1,
  event_id: 3,
  quantity: 2,
  total_amount: '3000.00',
  status: 'CONFIRMED',
  booking_date: '2026-01-01T00:00:00Z',
  tickets: [],
};

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
  tickets_sold: 9,
  available: 1,
  timezone: 'Asia/Bangkok',
};

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
    this.requests.push(request);
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
  it('books on the first try with one key', async () => {
    const { client, api } = setUp([booking]);
    expect(await client.book(3, 2)).toEqual({ kind: 'booked', booking });
    expect(api.keys).toEqual(['key-1']);
    expect(api.requests).toEqual([{ event_id: 3, quantity: 2 }]);
  });

  it('retries network errors, 503 and request_in_progress with the same key and growing delays', async () => {
    const { client, api, delays } = setUp([
      httpError(0),
      httpError(503, { detail: 'busy', code: 'unavailable' }),
      httpError(409, { detail: 'in progress', code: 'request_in_progress' }),
      booking,
    ]);
    const retries: number[] = [];
    const outcome = await client.book(3, 2, (n) => retries.push(n));
    expect(outcome).toEqual({ kind: 'booked', booking });
    expect(api.keys).toEqual(['key-1', 'key-1', 'key-1', 'key-1']);
    expect(retries).toEqual([1, 2, 3]);
    expect(delays).toEqual([75, 150, 300]);
  });

  it('gives up after 3 retries and reports the last error', async () => {
    const unavailable = httpError(503, { detail: 'Service unavailable', code: 'unavailable' });
    const { client, api } = setUp([unavailable, unavailable, unavailable, unavailable, booking]);
    const outcome = await client.book(3, 1);
    expect(outcome.kind).toBe('failed');
    expect(outcome.kind === 'failed' && outcome.error.code).toBe('unavailable');
    expect(api.keys.length).toBe(4);
  });

  it('makes a new key for each Book click', async () => {
    const { client, api } = setUp([booking, booking]);
    await client.book(3, 1);
    await client.book(3, 1);
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
    expect(outcome).toEqual({ kind: 'sold_out', available: 1, event });
    expect(api.keys.length).toBe(1);
    expect(delays).toEqual([]);
    expect(eventsGet).toHaveBeenCalledWith(3);
  });

  it('falls back to the sold_out body when the event cannot be refreshed', async () => {
    const failingGet = vi.fn(() => throwError(() => httpError(0)));
    const { client } = setUp(
      [httpError(409, { detail: 'gone', code: 'sold_out', available: 0 })],
      failingGet,
    );
    expect(await client.book(3, 2)).toEqual({ kind: 'sold_out', available: 0, event: null });
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
