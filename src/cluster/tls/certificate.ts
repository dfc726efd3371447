/**
 * The TLS certificate of `serve --tls` / `--h2`: the user's files, or a self-signed one the primary makes at
 * start, in memory, with `selfsigned` (Node's WebCrypto underneath: an EC P-256 key and certificate in ~20 ms,
 * where a hand-written ASN.1/DER encoder would be a few hundred lines to get right). Every worker gets the same
 * one. Nothing is written to disk.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

export interface TlsMaterial {
  /** PEM */
  cert: string;
  /** PEM */
  key: string;
}

export interface CertificateInfo {
  /** SHA-256 of the certificate, as browsers show it (AB:CD:…). */
  fingerprint256: string;
  /** base64 SHA-256 of its public key (SPKI): what Chromium's --ignore-certificate-errors-spki-list takes. */
  spkiSha256: string;
  /** The names it is valid for, e.g. "DNS:localhost, IP Address:127.0.0.1". */
  subjectAltName: string | null;
  validTo: string;
  selfSigned: boolean;
}

/** The names a local self-signed certificate covers: how this machine reaches itself. */
export const LOCAL_NAMES = { dns: ['localhost'], ips: ['127.0.0.1', '::1'] } as const;

export async function selfSignedCertificate(days = 30): Promise<TlsMaterial> {
  const { generate } = await import('selfsigned');
  const notBeforeDate = new Date(Date.now() - 60_000);
  const pems = await generate([{ name: 'commonName', value: 'localhost' }, { name: 'organizationName', value: 'cluster-demo (self-signed)' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + days * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...LOCAL_NAMES.dns.map((value) => ({ type: 2 as const, value })), ...LOCAL_NAMES.ips.map((ip) => ({ type: 7 as const, ip }))] },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

export function describeCertificate(cert: string, selfSigned: boolean): CertificateInfo {
  const x509 = new X509Certificate(cert);
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return {
    fingerprint256: x509.fingerprint256,
    spkiSha256: createHash('sha256').update(spki).digest('base64'),
    subjectAltName: x509.subjectAltName ?? null,
    validTo: x509.validTo,
    selfSigned,
  };
}

/** A certificate or key file that cannot be used: the user's to fix (which file, and why). */
export class CertificateFileError extends Error {
  override name = 'CertificateFileError';
  constructor(
    message: string,
    readonly option: 'cert' | 'key',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Reads the user's PEM files and checks that the key belongs to the certificate. */
export function loadCertificate(certFile: string, keyFile: string): TlsMaterial {
  const read = (file: string, option: 'cert' | 'key') => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new CertificateFileError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, option, { cause: err });
    }
  };
  const material = { cert: read(certFile, 'cert'), key: read(keyFile, 'key') };
  try {
    new X509Certificate(material.cert);
  } catch (err) {
    throw new CertificateFileError(`${certFile} is not a PEM certificate`, 'cert', { cause: err });
  }
  try {
    createSecureContext(material);
  } catch (err) {
    throw new CertificateFileError(`${keyFile} does not fit ${certFile} (${(err as Error).message})`, 'key', { cause: err });
  }
  return material;
}
