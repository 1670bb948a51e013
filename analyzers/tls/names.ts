// Does a certificate cover a server name? RFC 9525 (which obsoletes RFC 6125) §6.3:
// - DNS-ID only: subjectAltName dNSName entries; the subject CN is consulted only when the
//   certificate has no subjectAltName DNS entry at all (RFC 6125 §6.4.4 fallback, kept for old
//   private certificates);
// - comparison is case-insensitive over ASCII labels, a trailing dot is ignored (RFC 4343);
// - a wildcard is allowed only as the complete left-most label ("*.example.com"), matches exactly
//   one non-empty label, and never a bare public suffix (at least two labels must follow it);
//   partial-label wildcards ("f*.example.com") and wildcards elsewhere match nothing (RFC 9525 §6.3).

const norm = (s: string): string => s.trim().toLowerCase().replace(/\.$/, '');

export function matchesDnsId(name: string, pattern: string): boolean {
  const n = norm(name);
  const p = norm(pattern);
  if (n === '' || p === '') return false;
  if (!p.includes('*')) return n === p;
  const labels = p.split('.');
  if (labels[0] !== '*' || labels.length < 3 || labels.slice(1).some((l) => l.includes('*') || l === '')) return false;
  const dot = n.indexOf('.');
  if (dot <= 0) return false;
  return n.slice(dot + 1) === labels.slice(1).join('.');
}

/** DNS names a certificate presents for matching: its SAN dNSNames, else (no DNS SAN) the subject CNs. */
export function dnsIds(sans: readonly string[], subject: string): string[] {
  const dns = sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
  if (dns.length > 0) return dns;
  const out: string[] = [];
  for (const part of subject.split(', ')) if (part.startsWith('CN=')) out.push(part.slice(3));
  return out;
}

export function certificateCovers(name: string, sans: readonly string[], subject: string): boolean {
  return dnsIds(sans, subject).some((p) => matchesDnsId(name, p));
}
