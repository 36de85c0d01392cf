import { HttpErrorResponse, HttpInterceptorFn, HttpRequest } from '@angular/common/http';
import { inject } from '@angular/core';
import { Router } from '@angular/router';
import { catchError, throwError } from 'rxjs';
import { API } from '../core/api';
import { toApiError } from '../core/api-error';
import { AuthService } from './auth.service';

/**
 * Adds the bearer token to API calls. A 401 means the token expired or was revoked: forget it
 * and send the user to sign in, then back to this page. Not so for a wrong password (sign-in, or
 * the current password when changing it: `invalid_credentials`, the page says so) nor for
 * signing out (the token is already forgotten, a 401 there only means it was revoked before).
 */
export const authInterceptor: HttpInterceptorFn = (request, next) => {
  const auth = inject(AuthService);
  const router = inject(Router);
  const token = auth.token();
  const isApi = request.url.startsWith(API);
  const outgoing =
    token && isApi && !request.headers.has('Authorization')
      ? request.clone({ setHeaders: { Authorization: `Bearer ${token}` } })
      : request;
  return next(outgoing).pipe(
    catchError((error: unknown) => {
      if (isApi && endsSession(request, error)) {
        auth.forget();
        const returnUrl = router.url;
        if (!returnUrl.startsWith('/sign-in')) {
          void router.navigate(['/sign-in'], { queryParams: { returnUrl, expired: 1 } });
        }
      }
      return throwError(() => error);
    }),
  );
};

function endsSession(request: HttpRequest<unknown>, error: unknown): boolean {
  return (
    error instanceof HttpErrorResponse &&
    error.status === 401 &&
    !request.url.endsWith('/auth/token') &&
    !request.url.endsWith('/auth/logout') &&
    toApiError(error).code !== 'invalid_credentials'
  );
}
