// The Content-Security-Policy of the studio's page, one string for both ways the page is served:
// the desktop window (src-main/electron/security.ts) and serve mode's HTTP header
// (src-main/serve/server.ts); src-renderer/index.html carries the same policy as a meta tag.
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
