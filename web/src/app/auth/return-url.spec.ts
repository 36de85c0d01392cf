import { safeReturnUrl } from './return-url';

describe('safeReturnUrl', () => {
  it('follows same-site paths only', () => {
    expect(safeReturnUrl('/events/3')).toBe('/events/3');
    expect(safeReturnUrl('//evil.example')).toBe('/events');
    expect(safeReturnUrl('https://evil.example')).toBe('/events');
    expect(safeReturnUrl(undefined)).toBe('/events');
    expect(safeReturnUrl('/sign-in')).toBe('/events');
  });
});
