/** Plain words for the errno codes and causes the engine records; unknown ones are shown as they are. */
const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'broken pipe',
  EADDRNOTAVAIL: 'no free local port (EADDRNOTAVAIL)',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  timeout: 'timeout',
  // TLS: what a certificate check said, in OpenSSL's words.
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the certificate (missing intermediate?)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate issuer not trusted here',
  CERT_HAS_EXPIRED: 'certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: "certificate does not name this host",
  EPROTO: 'TLS handshake failed (is it really https?)',
  ERR_SSL_WRONG_VERSION_NUMBER: 'TLS handshake failed (is it really https?)',
};

/** Certificate problems that --insecure lets through. */
export const CERTIFICATE_CAUSES = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

export function describeCause(cause: string): string {
  return CAUSES[cause] ?? cause;
}
