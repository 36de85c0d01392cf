import { isRetryable, newIdempotencyKey, retryDelayMs, RetryPolicy } from './retry-policy';

const policy = (random: number): RetryPolicy => ({
  maxRetries: 3,
  baseDelayMs: 400,
  maxDelayMs: 5000,
  sleep: async () => undefined,
  random: () => random,
  newKey: () => 'k',
});

describe('retry policy', () => {
  it('retries only network errors, 502, 503, 504 and request_in_progress', () => {
    expect(isRetryable({ status: 0, code: 'network_error', detail: '' })).toBe(true);
    expect(isRetryable({ status: 502, code: 'http_502', detail: 'Bad Gateway' })).toBe(true);
    expect(isRetryable({ status: 503, code: 'unavailable', detail: '' })).toBe(true);
    expect(isRetryable({ status: 504, code: 'http_504', detail: 'Gateway Timeout' })).toBe(true);
    expect(isRetryable({ status: 409, code: 'request_in_progress', detail: '' })).toBe(true);
    expect(isRetryable({ status: 409, code: 'sold_out', detail: '' })).toBe(false);
    expect(isRetryable({ status: 422, code: 'validation_error', detail: '' })).toBe(false);
    expect(isRetryable({ status: 500, code: 'internal', detail: '' })).toBe(false);
  });

  it('grows the delay, jitters it, and caps it', () => {
    const error = { status: 503, code: 'unavailable', detail: '' };
    expect([0, 1, 2].map((n) => retryDelayMs(n, error, policy(0)))).toEqual([200, 400, 800]);
    expect([0, 1, 2].map((n) => retryDelayMs(n, error, policy(0.999)))).toEqual([400, 800, 1599]);
    expect(retryDelayMs(10, error, policy(1))).toBe(5000);
  });

  it('honours Retry-After up to the cap', () => {
    expect(
      retryDelayMs(
        0,
        { status: 503, code: 'unavailable', detail: '', retryAfterSeconds: 2 },
        policy(0),
      ),
    ).toBe(2000);
    expect(
      retryDelayMs(
        0,
        { status: 503, code: 'unavailable', detail: '', retryAfterSeconds: 60 },
        policy(0),
      ),
    ).toBe(5000);
  });

  it('makes distinct 32-character keys', () => {
    const a = newIdempotencyKey();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(newIdempotencyKey()).not.toBe(a);
  });
});
