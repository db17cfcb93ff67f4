// Certificates for the twin's HTTPS API: a throwaway certificate authority and a server certificate
// it signs for the loopback names, generated in memory at start (selfsigned, ECDSA P-256). The CA
// travels to clients in the kubeconfig's certificate-authority-data, so kubectl and client-node
// verify the server as they would a real cluster's — no skip-tls-verify. Nothing is written to disk
// here and the keys never leave the process.
import { isIP } from 'node:net';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  /** PEM of the certificate authority clients trust. */
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** A CA and a server certificate for localhost, 127.0.0.1, ::1 and any further `hosts`, valid for `validDays`. */
export async function generateTlsMaterial(opts: { hosts?: string[]; validDays?: number } = {}): Promise<TlsMaterial> {
  // An hour of slack for clocks that disagree a little.
  const notBeforeDate = new Date(Date.now() - 3_600_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + (opts.validDays ?? 365) * 86_400_000);
  const common = { keyType: 'ec' as const, curve: 'P-256' as const, algorithm: 'sha256', notBeforeDate, notAfterDate };
  const ca = await generate([{ name: 'commonName', value: 'governor-twin-ca' }], {
    ...common,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const names = ['localhost', '127.0.0.1', '::1', ...(opts.hosts ?? [])].filter((h, i, all) => all.indexOf(h) === i);
  const server = await generate([{ name: 'commonName', value: 'governor-twin-apiserver' }], {
    ...common,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((h) => (isIP(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h })) },
    ],
  });
  return { caPem: ca.cert, certPem: server.cert, keyPem: server.private };
}
