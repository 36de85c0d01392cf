import {
  HttpErrorResponse,
  HttpHeaders,
  HttpInterceptorFn,
  HttpResponse,
} from '@angular/common/http';
import { inject, Injectable, signal } from '@angular/core';
import { tap } from 'rxjs';
import { API } from './api';

/**
 * How far the service's clock can be past an HTTP `Date` header: the header has whole seconds,
 * and servers (uvicorn) refresh it once a second, so it can be up to a second older again.
 */
export const DATE_HEADER_SPAN_MS = 2000;

/**
 * The offset between the service's clock and the browser's (server - browser, in ms). A hold's
 * deadline is the server's time: a browser clock that is minutes off must not show a buyer
 * time they do not have.
 *
 * Each response bounds the offset. Its `Date` header was written between sending and
 * receiving, at a server time in [D, D + DATE_HEADER_SPAN_MS); a booking's `booking_date`
 * (microseconds) had passed on the server when the answer arrived, a lower bound that is tight
 * for a booking just made. Each response narrows the interval; the estimate is its middle.
 * When a new interval misses the old one, a clock was changed meanwhile, and only the new one
 * is believed.
 */
export class ClockOffset {
  private low = -Infinity;
  private high = Infinity;

  /** `serverDateMs` is the Date header; `sentAt`/`receivedAt` are browser times (ms). */
  record(serverDateMs: number, sentAt: number, receivedAt: number): void {
    const low = serverDateMs - receivedAt;
    const high = serverDateMs + DATE_HEADER_SPAN_MS - sentAt;
    const narrowedLow = Math.max(this.low, low);
    const narrowedHigh = Math.min(this.high, high);
    if (narrowedLow > narrowedHigh) {
      this.low = low;
      this.high = high;
    } else {
      this.low = narrowedLow;
      this.high = narrowedHigh;
    }
  }

  /** The server's clock had reached `serverMs` by browser time `receivedAt`. */
  atLeast(serverMs: number, receivedAt: number): void {
    const low = serverMs - receivedAt;
    if (low <= this.low) return;
    this.low = low;
    if (this.high < low) this.high = low + DATE_HEADER_SPAN_MS;
  }

  get known(): boolean {
    return Number.isFinite(this.low);
  }

  /** The best estimate, in ms; 0 until a response has been seen. */
  get offsetMs(): number {
    if (!this.known) return 0;
    return Number.isFinite(this.high) ? Math.round((this.low + this.high) / 2) : this.low;
  }
}

/** The service's time as this page knows it. */
@Injectable({ providedIn: 'root' })
export class ServerClock {
  private readonly estimate = new ClockOffset();
  /** Changes when a response moves the estimate, so countdowns recompute. */
  readonly offsetMs = signal(0);

  record(serverDateMs: number, sentAt: number, receivedAt: number): void {
    this.estimate.record(serverDateMs, sentAt, receivedAt);
    this.offsetMs.set(this.estimate.offsetMs);
  }

  atLeast(serverMs: number, receivedAt: number): void {
    this.estimate.atLeast(serverMs, receivedAt);
    this.offsetMs.set(this.estimate.offsetMs);
  }

  /** Milliseconds since the epoch on the service's clock. */
  now(browserNow: number = Date.now()): number {
    return browserNow + this.offsetMs();
  }
}

/**
 * Feeds every API response's `Date` header (errors' too), and the latest `booking_date` of a
 * booking or a list of them, into the ServerClock.
 */
export const serverClockInterceptor: HttpInterceptorFn = (request, next) => {
  if (!request.url.startsWith(API)) return next(request);
  const clock = inject(ServerClock);
  const sentAt = Date.now();
  const seen = (headers: HttpHeaders | undefined) => {
    const date = Date.parse(headers?.get('Date') ?? '');
    if (Number.isFinite(date)) clock.record(date, sentAt, Date.now());
  };
  return next(request).pipe(
    tap({
      next: (event) => {
        if (!(event instanceof HttpResponse)) return;
        seen(event.headers);
        const booked = latestBookingDate(event.body);
        if (booked !== null) clock.atLeast(booked, Date.now());
      },
      error: (error: unknown) => {
        if (error instanceof HttpErrorResponse && error.status > 0) seen(error.headers);
      },
    }),
  );
};

/** The latest `booking_date` in a Booking or a page of them, in ms; null when there is none. */
export function latestBookingDate(body: unknown): number | null {
  const one = (value: unknown): number => {
    const date =
      typeof value === 'object' && value !== null
        ? (value as Record<string, unknown>)['booking_date']
        : undefined;
    return typeof date === 'string' ? Date.parse(date) : NaN;
  };
  const items =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['items'] : null;
  const dates = [one(body), ...(Array.isArray(items) ? items.map(one) : [])].filter(
    Number.isFinite,
  );
  return dates.length > 0 ? Math.max(...dates) : null;
}

/** Time left until `deadlineIso` at server time `serverNow`, never below 0. */
export function remainingMs(deadlineIso: string, serverNow: number): number {
  const deadline = Date.parse(deadlineIso);
  return Number.isFinite(deadline) ? Math.max(0, deadline - serverNow) : 0;
}

/** "4:05" or "1:02:03": whole seconds, rounded up so 0:00 means the time is really up. */
export function formatRemaining(ms: number): string {
  const total = Math.ceil(Math.max(0, ms) / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0
    ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`
    : `${minutes}:${seconds}`;
}
