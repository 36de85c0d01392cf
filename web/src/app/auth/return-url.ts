/** Only same-site paths are followed after signing in (no open redirect via ?returnUrl=). */
export function safeReturnUrl(value: string | null | undefined): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/sign-')) {
    return '/events';
  }
  return value;
}
