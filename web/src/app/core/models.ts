/**
 * The app's names for the API's bodies. The shapes themselves are generated from the service's
 * OpenAPI description into api-schema.ts (scripts/web-api-types), so they cannot drift from it;
 * only names (and the few shapes that are the app's own) live here.
 */
import { components } from './api-schema';

type Schemas = components['schemas'];

export type User = Schemas['UserOut'];
export type TokenResponse = Schemas['TokenOut'];
export type PasswordChange = Schemas['PasswordChangeIn'];

/** An event with its ticket types, checkout settings and (GET one, signed in) `my_remaining`. */
export type TicketEvent = Schemas['EventOut'];
export type EventPage = Schemas['ListOut_EventOut_'];
export type EventIn = Schemas['EventIn'];
export type EventPatch = Schemas['EventPatch'];
export type CheckoutMode = TicketEvent['checkout'];

/** One kind of ticket of an event: its own price, and optionally its own cap. */
export type TicketType = Schemas['TicketTypeOut'];
export type TicketTypeDraft = Schemas['TicketTypeIn'];
export type TicketTypePatch = Schemas['TicketTypePatch'];

/** POST /bookings: items (any event), or a bare quantity (an event with one type only). */
export type BookingRequest = Schemas['BookingIn'];
export type BookingItemIn = Schemas['ItemIn'];
export type Booking = Schemas['BookingOut'];
export type BookingItem = Schemas['ItemOut'];
export type BookingPage = Schemas['ListOut_BookingOut_'];
export type BookingStatus = Booking['status'];
export type Payment = Schemas['PaymentOut'];
export type PaymentStatus = Payment['status'];
export type Buyer = Schemas['BuyerOut'];

export type Ticket = Schemas['TicketOut'];
export type TicketStatus = Ticket['status'];

/** GET /config (public): what the web app may offer. */
export type AppConfig = Schemas['PublicConfigOut'];
/** POST /dev/payments answers what the provider's webhook answers. */
export type PaymentResult = Schemas['WebhookOut'];

/** GET /bookings' filters (the app's own shape; sent as query parameters). */
export interface BookingFilter {
  eventId?: number;
  status?: BookingStatus;
  paymentStatus?: PaymentStatus;
  /** A payment reference, matched exactly. */
  reference?: string;
  limit?: number;
}
