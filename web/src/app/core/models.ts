/** Shapes of the API's bodies (see the HTTP contract, /api/v1). */

export interface User {
  id: number;
  email: string;
  name: string;
  role: 'customer' | 'admin';
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
}

export interface TicketEvent {
  id: number;
  name: string;
  description: string | null;
  venue: string | null;
  starts_at: string;
  capacity: number;
  price: string;
  currency: string;
  max_per_booking: number;
  tickets_sold: number;
  available: number;
}

/** The fields an admin may set; PATCH takes any subset. */
export interface EventDraft {
  name: string;
  description: string;
  venue: string;
  starts_at: string;
  capacity: number;
  price: string;
  currency: string;
  max_per_booking: number;
}

export type TicketStatus = 'VALID' | 'USED' | 'VOID';

export interface Ticket {
  id: number;
  code: string;
  booking_id: number;
  event_id: number;
  status: TicketStatus;
  checked_in_at: string | null;
}

export interface Booking {
  id: number;
  user_id: number;
  event_id: number;
  quantity: number;
  total_amount: string;
  status: 'CONFIRMED' | 'CANCELLED';
  booking_date: string;
  tickets: Ticket[];
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}
