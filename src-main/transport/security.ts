/** The Content-Security-Policy of the renderer in both modes: nothing remote, no inline scripts, no eval. */
export function contentSecurityPolicy(extraConnect = ''): string {
  return [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: mocoop-media:",
    "font-src 'self'",
    `connect-src 'self'${extraConnect ? ' ' + extraConnect : ''}`,
    "worker-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'"
  ].join('; ');
}
