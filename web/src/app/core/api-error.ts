import { HttpErrorResponse } from '@angular/common/http';

/** What one requested ticket type had left when a booking was refused as sold_out. */
export interface ItemAvailable {
  ticket_type_id: number;
  available: number;
}

/**
 * An API failure, reduced to what the UI needs: `{detail, code}` plus sold_out's `available`
 * (the event's) and `items` (each requested type's), and customer_limit_reached's `remaining`.
 */
export interface ApiError {
  /** HTTP status; 0 when the request never got an answer (network error). */
  status: number;
  code: string;
  detail: string;
  available?: number;
  items?: ItemAvailable[];
  remaining?: number;
  retryAfterSeconds?: number;
}

export function toApiError(error: unknown): ApiError {
  if (!(error instanceof HttpErrorResponse)) {
    return { status: 0, code: 'network_error', detail: String(error) };
  }
  if (error.status === 0) {
    return { status: 0, code: 'network_error', detail: 'The service could not be reached.' };
  }
  const body: unknown = error.error;
  const result: ApiError = {
    status: error.status,
    code: readString(body, 'code') ?? `http_${error.status}`,
    detail: readDetail(body) ?? error.statusText ?? `HTTP ${error.status}`,
  };
  const available = readNumber(body, 'available');
  if (available !== undefined) result.available = available;
  const remaining = readNumber(body, 'remaining');
  if (remaining !== undefined) result.remaining = remaining;
  const items = readItems(body);
  if (items) result.items = items;
  const retryAfter = Number(error.headers?.get('Retry-After'));
  if (Number.isFinite(retryAfter) && retryAfter > 0) result.retryAfterSeconds = retryAfter;
  return result;
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null
    ? (body as Record<string, unknown>)[name]
    : undefined;
}

function readString(body: unknown, name: string): string | undefined {
  const value = field(body, name);
  return typeof value === 'string' ? value : undefined;
}

function readNumber(body: unknown, name: string): number | undefined {
  const value = field(body, name);
  return typeof value === 'number' ? value : undefined;
}

function readItems(body: unknown): ItemAvailable[] | undefined {
  const items = field(body, 'items');
  if (!Array.isArray(items)) return undefined;
  return items.flatMap((item: unknown) => {
    const ticketTypeId = readNumber(item, 'ticket_type_id');
    const available = readNumber(item, 'available');
    return ticketTypeId === undefined || available === undefined
      ? []
      : [{ ticket_type_id: ticketTypeId, available }];
  });
}

/** `detail` is a string, or for validation errors a list of `{msg, loc}` items. */
function readDetail(body: unknown): string | undefined {
  const detail = field(body, 'detail');
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item) =>
        typeof item === 'string' ? item : (readString(item, 'msg') ?? JSON.stringify(item)),
      )
      .join('; ');
  }
  return undefined;
}
