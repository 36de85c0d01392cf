/** The API's base path; the service serves it beside the web app (ng serve proxies it). */
export const API = '/api/v1';
