import { HttpErrorResponse, HttpInterceptorFn } from '@angular/common/http';
import { inject } from '@angular/core';
import { Router } from '@angular/router';
import { catchError, throwError } from 'rxjs';
import { API } from '../core/api';
import { AuthService } from './auth.service';

/**
 * Adds the bearer token to API calls. A 401 on anything but the sign-in call means the token
 * expired or was refused: forget it and send the user to sign in, then back to this page.
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
      if (
        error instanceof HttpErrorResponse &&
        error.status === 401 &&
        isApi &&
        !request.url.endsWith('/auth/token')
      ) {
        auth.signOut();
        const returnUrl = router.url;
        if (!returnUrl.startsWith('/sign-in')) {
          void router.navigate(['/sign-in'], { queryParams: { returnUrl, expired: 1 } });
        }
      }
      return throwError(() => error);
    }),
  );
};
