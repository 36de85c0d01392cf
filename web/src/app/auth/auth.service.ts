import { HttpClient, HttpHeaders, HttpParams } from '@angular/common/http';
import { computed, inject, Injectable, signal } from '@angular/core';
import { firstValueFrom, timeout } from 'rxjs';
import { API } from '../core/api';
import { TokenResponse, User } from '../core/models';

interface Session {
  token: string;
  /** Epoch milliseconds after which the token is no longer sent. */
  expiresAt: number;
  user: User;
}

const STORAGE_KEY = 'ticketing.session';
/** How long signing out waits for the service to revoke the token before giving up on it. */
export const LOGOUT_TIMEOUT_MS = 5000;

/** Holds the signed-in user's token for the browser session (sessionStorage). */
@Injectable({ providedIn: 'root' })
export class AuthService {
  private readonly http = inject(HttpClient);
  private readonly session = signal<Session | null>(readSession());

  readonly user = computed(() => this.session()?.user ?? null);
  readonly isSignedIn = computed(() => this.session() !== null);
  readonly isAdmin = computed(() => this.user()?.role === 'admin');

  /** The bearer token, or null when signed out or the token has expired. */
  token(): string | null {
    const session = this.session();
    return session && !isExpired(session) ? session.token : null;
  }

  hasValidSession(): boolean {
    const session = this.session();
    return session !== null && !isExpired(session);
  }

  async signIn(email: string, password: string): Promise<User> {
    const form = new HttpParams().set('username', email).set('password', password);
    const token = await firstValueFrom(
      this.http.post<TokenResponse>(`${API}/auth/token`, form.toString(), {
        headers: new HttpHeaders({ 'Content-Type': 'application/x-www-form-urlencoded' }),
      }),
    );
    const user = await firstValueFrom(
      this.http.get<User>(`${API}/users/me`, {
        headers: new HttpHeaders({ Authorization: `Bearer ${token.access_token}` }),
      }),
    );
    this.store({
      token: token.access_token,
      expiresAt: Date.now() + token.expires_in * 1000,
      user,
    });
    return user;
  }

  /** Signs up; `language` is the account's language for the emails it will get (tickets, payments). */
  async register(email: string, password: string, name: string, language: 'en' | 'th' = 'en'): Promise<User> {
    await firstValueFrom(this.http.post<User>(`${API}/auth/register`, { email, password, name, language }));
    return this.signIn(email, password);
  }

  /**
   * Signs out: asks the service to revoke the token (`POST /auth/logout`), and forgets it here
   * whatever the answer. It is forgotten before the call is answered, so no other request can
   * use it meanwhile; a network error or a 401 (already revoked) still leaves the user signed
   * out here, the token then only lives until it expires.
   */
  async signOut(): Promise<void> {
    const token = this.token();
    this.forget();
    if (!token) return;
    try {
      await firstValueFrom(
        this.http
          .post<void>(`${API}/auth/logout`, null, {
            headers: new HttpHeaders({ Authorization: `Bearer ${token}` }),
          })
          .pipe(timeout(LOGOUT_TIMEOUT_MS)),
      );
    } catch {
      // Nothing more to do: the session is gone from this browser either way.
    }
  }

  /** Forgets the session in this browser only (its token was refused, expired or revoked). */
  forget(): void {
    this.store(null);
  }

  private store(session: Session | null): void {
    this.session.set(session);
    if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    else sessionStorage.removeItem(STORAGE_KEY);
  }
}

function isExpired(session: Session): boolean {
  return Date.now() >= session.expiresAt;
}

function readSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}
