import { HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { firstValueFrom } from 'rxjs';
import { authInterceptor } from './auth.interceptor';
import { AuthService } from './auth.service';

describe('authInterceptor', () => {
  let http: HttpClient;
  let backend: HttpTestingController;
  let auth: { token: ReturnType<typeof vi.fn>; forget: ReturnType<typeof vi.fn> };

  beforeEach(() => {
    auth = { token: vi.fn(() => 'tok'), forget: vi.fn() };
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideHttpClient(withInterceptors([authInterceptor])),
        provideHttpClientTesting(),
        { provide: AuthService, useValue: auth },
      ],
    });
    http = TestBed.inject(HttpClient);
    backend = TestBed.inject(HttpTestingController);
  });

  it('sends the bearer token to the API', async () => {
    const done = firstValueFrom(http.get('/api/v1/bookings'));
    const request = backend.expectOne('/api/v1/bookings');
    expect(request.request.headers.get('Authorization')).toBe('Bearer tok');
    request.flush({});
    await done;
  });

  it('on 401 forgets the token and sends the user to sign in and back', async () => {
    const router = TestBed.inject(Router);
    const navigate = vi.spyOn(router, 'navigate').mockResolvedValue(true);
    const failed = firstValueFrom(http.get('/api/v1/bookings')).catch((e: unknown) => e);
    backend
      .expectOne('/api/v1/bookings')
      .flush(
        { detail: 'expired', code: 'not_authenticated' },
        { status: 401, statusText: 'Unauthorized' },
      );
    await failed;
    expect(auth.forget).toHaveBeenCalled();
    expect(navigate).toHaveBeenCalledWith(['/sign-in'], {
      queryParams: { returnUrl: '/', expired: 1 },
    });
  });

  it('leaves a failed sign-in alone', async () => {
    const failed = firstValueFrom(http.post('/api/v1/auth/token', 'x')).catch((e: unknown) => e);
    backend.expectOne('/api/v1/auth/token').flush({}, { status: 401, statusText: 'Unauthorized' });
    await failed;
    expect(auth.forget).not.toHaveBeenCalled();
  });

  it('leaves a wrong current password to the page (401 invalid_credentials)', async () => {
    const navigate = vi.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
    const failed = firstValueFrom(http.post('/api/v1/users/me/password', {})).catch(
      (e: unknown) => e,
    );
    backend
      .expectOne('/api/v1/users/me/password')
      .flush(
        { detail: 'Incorrect password.', code: 'invalid_credentials' },
        { status: 401, statusText: 'Unauthorized' },
      );
    await failed;
    expect(auth.forget).not.toHaveBeenCalled();
    expect(navigate).not.toHaveBeenCalled();
  });

  it('leaves a refused sign-out alone (the token is already forgotten)', async () => {
    const navigate = vi.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
    const failed = firstValueFrom(http.post('/api/v1/auth/logout', null)).catch((e: unknown) => e);
    backend
      .expectOne('/api/v1/auth/logout')
      .flush(
        { detail: 'Not authenticated.', code: 'not_authenticated' },
        { status: 401, statusText: 'Unauthorized' },
      );
    await failed;
    expect(auth.forget).not.toHaveBeenCalled();
    expect(navigate).not.toHaveBeenCalled();
  });
});
