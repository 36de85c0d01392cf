import { InjectionToken } from '@angular/core';
import { ApiError } from '../core/api-error';

/** How the booking client retries; a token so tests can sleep instantly and fix the jitter. */
export interface RetryPolicy {
  /** Retries after the first attempt (so at most maxRetries + 1 requests per Book click). */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep(ms: number): Promise<void>;
  /** A number in [0, 1), as Math.random. */
  random(): number;
  newKey(): string;
}

export const BOOKING_RETRY_POLICY = new InjectionToken<RetryPolicy>('BOOKING_RETRY_POLICY', {
  providedIn: 'root',
  factory: () => ({
    maxRetries: 3,
    baseDelayMs: 400,
    maxDelayMs: 5000,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
    newKey: newIdempotencyKey,
  }),
});

/** Statuses after which a booking may or may not have gone through (a proxy's answers too). */
const UNKNOWN_OUTCOME_STATUSES = new Set([
  0, // no answer: a network error or the client's timeout
  502, // HAProxy: the host died under the request
  503,
  504, // HAProxy: the host did not answer in time
]);

/**
 * Only failures that leave the outcome unknown or were refused before any work are retried:
 * the same Idempotency-Key makes a repeat of a booking that did go through answer that booking.
 * Once the retries give up on one of these, the booking may still have gone through.
 */
export function isRetryable(error: ApiError): boolean {
  return (
    UNKNOWN_OUTCOME_STATUSES.has(error.status) ||
    (error.status === 409 && error.code === 'request_in_progress')
  );
}

/**
 * Exponential backoff with jitter, so that many clients failing together do not retry in step.
 * A server's Retry-After is honoured up to maxDelayMs.
 */
export function retryDelayMs(retry: number, error: ApiError, policy: RetryPolicy): number {
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  const jittered = backoff / 2 + policy.random() * (backoff / 2);
  const serverAsked = (error.retryAfterSeconds ?? 0) * 1000;
  return Math.round(Math.min(policy.maxDelayMs, Math.max(jittered, serverAsked)));
}

/** 128 random bits as hex; crypto.getRandomValues works outside secure contexts too. */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
