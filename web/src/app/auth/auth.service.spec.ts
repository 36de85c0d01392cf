import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { authInterceptor } from './auth.interceptor';
import { AuthService, LOGOUT_TIMEOUT_MS } from './auth.service';

const SESSION_KEY = 'ticketing.session';

/** Signing out with the real interceptor in between, as the app runs it. */
describe('AuthService.signOut', () => {
  let backend: HttpTestingController;

  function signedIn(token = 'tok-1'): AuthService {
    sessionStorage.setItem(
      SESSION_KEY,
      JSON.stringify({
        token,
        expiresAt: Date.now() + 60_000,
        user: { id: 7, email: 'nok@example.com', name: 'Nok', role: 'customer' },
      }),
    );
    const auth = TestBed.inject(AuthService);
    expect(auth.isSignedIn()).toBe(true);
    return auth;
  }

  function expectSignedOut(auth: AuthService): void {
    expect(auth.isSignedIn()).toBe(false);
    expect(auth.token()).toBeNull();
    expect(sessionStorage.getItem(SESSION_KEY)).toBeNull();
  }

  beforeEach(() => {
    sessionStorage.clear();
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideHttpClient(withInterceptors([authInterceptor])),
        provideHttpClientTesting(),
      ],
    });
    backend = TestBed.inject(HttpTestingController);
  });

  afterEach(() => {
    vi.useRealTimers();
    backend.verify();
  });

  it('revokes the token at the service, then is signed out', async () => {
    const auth = signedIn('tok-1');
    const done = auth.signOut();
    const request = backend.expectOne({ method: 'POST', url: '/api/v1/auth/logout' });
    expect(request.request.headers.get('Authorization')).toBe('Bearer tok-1');
    // Forgotten before the answer: nothing else can send the token meanwhile.
    expectSignedOut(auth);
    request.flush(null, { status: 204, statusText: 'No Content' });
    await done;
    expectSignedOut(auth);
  });

  it('is signed out here when the service cannot be reached', async () => {
    const auth = signedIn();
    const done = auth.signOut();
    backend.expectOne('/api/v1/auth/logout').error(new ProgressEvent('error'));
    await expect(done).resolves.toBeUndefined();
    expectSignedOut(auth);
  });

  it('is signed out here on a 401, without being sent to sign in as "expired"', async () => {
    const navigate = vi.spyOn(TestBed.inject(Router), 'navigate');
    const auth = signedIn();
    const done = auth.signOut();
    backend
      .expectOne('/api/v1/auth/logout')
      .flush(
        { detail: 'Not authenticated.', code: 'not_authenticated' },
        { status: 401, statusText: 'Unauthorized' },
      );
    await expect(done).resolves.toBeUndefined();
    expectSignedOut(auth);
    expect(navigate).not.toHaveBeenCalled();
  });

  it('gives up waiting for an answer after a while, signed out', async () => {
    vi.useFakeTimers();
    const auth = signedIn();
    const done = auth.signOut();
    const request = backend.expectOne('/api/v1/auth/logout');
    await vi.advanceTimersByTimeAsync(LOGOUT_TIMEOUT_MS);
    await expect(done).resolves.toBeUndefined();
    expect(request.cancelled).toBe(true);
    expectSignedOut(auth);
  });

  it('sends nothing when the token has already expired', async () => {
    sessionStorage.setItem(
      SESSION_KEY,
      JSON.stringify({
        token: 'old',
        expiresAt: Date.now() - 1,
        user: { id: 7, email: 'n@example.com', name: 'N', role: 'customer' },
      }),
    );
    const auth = TestBed.inject(AuthService);
    await auth.signOut();
    backend.expectNone('/api/v1/auth/logout');
    expectSignedOut(auth);
  });
});
