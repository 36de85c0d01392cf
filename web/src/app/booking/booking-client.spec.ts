import { HttpErrorResponse, provideHttpClient } from '@angular/common/http';
import {
  HttpTestingController,
  provideHttpClientTesting,
  TestRequest,
} from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Observable, of, throwError } from 'rxjs';
import { makeBooking, makeEvent, pendingBooking, ticketType } from '../../testing/fixtures';
import { countingKeysPolicy } from '../../testing/providers';
import { Booking, BookingRequest } from '../core/models';
import { EventsApi } from '../events/events-api';
import { BookingClient } from './booking-client';
import { BOOKING_TIMEOUT_MS, BookingsApi } from './bookings-api';
import { BOOKING_RETRY_POLICY, RetryPolicy } from './retry-policy';

const booking = makeBooking({ id: 7, tickets: [] });
const event = makeEvent({ available: 1, tickets_sold: 9 });
const items = [
  { ticket_type_id: 1, quantity: 2 },
  { ticket_type_id: 2, quantity: 1 },
];

function httpError(status: number, body: object | string = {}): HttpErrorResponse {
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
  const policy: RetryPolicy = {
    ...countingKeysPolicy(),
    sleep: async (ms) => {
      delays.push(ms);
    },
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

  it('retries 502 and 504 from the proxy with the same key and the same items', async () => {
    const { client, api, delays } = setUp([
      httpError(502, '<html><body><h1>502 Bad Gateway</h1></body></html>'),
      httpError(504, '<html><body><h1>504 Gateway Timeout</h1></body></html>'),
      booking,
    ]);
    expect(await client.book(3, items)).toEqual({ kind: 'booked', booking });
    expect(api.keys).toEqual(['key-1', 'key-1', 'key-1']);
    expect(api.requests).toEqual(Array(3).fill({ event_id: 3, items }));
    expect(delays.length).toBe(2);
  });

  it('does not retry a 500, and gives no key to reuse', async () => {
    const { client, api } = setUp([httpError(500, { detail: 'Internal error', code: 'internal' })]);
    const outcome = await client.book(3, items);
    expect(outcome).toEqual({
      kind: 'failed',
      error: { status: 500, code: 'internal', detail: 'Internal error' },
    });
    expect(outcome.kind === 'failed' && outcome.retryKey).toBeUndefined();
    expect(api.keys.length).toBe(1);
  });

  it('gives up after 3 retries, reports the last error and the key of the unknown outcome', async () => {
    const unavailable = httpError(503, { detail: 'Service unavailable', code: 'unavailable' });
    const { client, api } = setUp([unavailable, unavailable, unavailable, unavailable, booking]);
    const outcome = await client.book(3, items);
    expect(outcome.kind).toBe('failed');
    expect(outcome.kind === 'failed' && outcome.error.code).toBe('unavailable');
    expect(outcome.kind === 'failed' && outcome.retryKey).toBe('key-1');
    expect(api.keys.length).toBe(4);
  });

  it.each([0, 502, 504])('gives the key back after giving up on status %i too', async (status) => {
    const lost = httpError(status);
    const { client, api } = setUp([lost, lost, lost, lost]);
    const outcome = await client.book(3, items);
    expect(outcome.kind === 'failed' && outcome.retryKey).toBe('key-1');
    expect(api.keys).toEqual(Array(4).fill('key-1'));
  });

  it('makes a new key for each booking after a final answer', async () => {
    const { client, api } = setUp([
      booking,
      booking,
      httpError(400, { detail: 'Closed.', code: 'sales_closed' }),
      booking,
    ]);
    await client.book(3, items);
    await client.book(3, items);
    const refused = await client.book(3, items);
    expect(refused.kind === 'failed' && refused.retryKey).toBeUndefined();
    await client.book(3, items);
    expect(api.keys).toEqual(['key-1', 'key-2', 'key-3', 'key-4']);
  });

  it('books with the key it is given (of an unknown outcome), through its retries', async () => {
    const { client, api } = setUp([httpError(0), booking]);
    expect(await client.book(3, items, undefined, 'key-of-before')).toEqual({
      kind: 'booked',
      booking,
    });
    expect(api.keys).toEqual(['key-of-before', 'key-of-before']);
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

/** The booking POST over HTTP (the real BookingsApi), where a stalled request times out. */
describe('BookingClient with a stalled connection', () => {
  let backend: HttpTestingController;

  beforeEach(() => {
    const policy = countingKeysPolicy();
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: EventsApi, useValue: { get: vi.fn(() => of(event)) } },
        { provide: BOOKING_RETRY_POLICY, useValue: policy },
      ],
    });
    backend = TestBed.inject(HttpTestingController);
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
    backend.verify();
  });

  /** The next booking POST, once the client has sent it (its retries are sent after a promise). */
  async function nextPost(): Promise<TestRequest> {
    await vi.advanceTimersByTimeAsync(0);
    return backend.expectOne({ method: 'POST', url: '/api/v1/bookings' });
  }

  it('gives up on an answer after the timeout and retries with the same key and body', async () => {
    const outcome = TestBed.inject(BookingClient).book(3, items);
    const first = await nextPost();
    await vi.advanceTimersByTimeAsync(BOOKING_TIMEOUT_MS - 1);
    expect(first.cancelled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(first.cancelled).toBe(true);
    const second = await nextPost();
    expect(second.request.headers.get('Idempotency-Key')).toBe('key-1');
    expect(second.request.body).toEqual({ event_id: 3, items });
    second.flush(booking, { status: 201, statusText: 'Created' });
    await expect(outcome).resolves.toEqual({ kind: 'booked', booking });
  });

  it('treats timeouts as network errors: after the retries, the outcome is unknown', async () => {
    const outcome = TestBed.inject(BookingClient).book(3, items);
    for (let attempt = 0; attempt < 4; attempt++) {
      const request = await nextPost();
      expect(request.request.headers.get('Idempotency-Key')).toBe('key-1');
      await vi.advanceTimersByTimeAsync(BOOKING_TIMEOUT_MS);
      expect(request.cancelled).toBe(true);
    }
    await expect(outcome).resolves.toEqual({
      kind: 'failed',
      error: { status: 0, code: 'network_error', detail: 'The service could not be reached.' },
      retryKey: 'key-1',
    });
  });
});
