/** The network an address belongs to, for grouping unknown tokens: IPv4 /24, IPv6 /64. Pure. */

function expandIpv6(ip: string): string[] | null {
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? left.length !== 8 : missing < 1) return null;
  return [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
}

export function subjectNetwork(ip: string): string {
  const bare = ip.replace(/^::ffff:(?=\d+\.)/i, '');
  if (bare.includes(':')) {
    const groups = expandIpv6(bare.split('%')[0]!);
    if (!groups) return bare;
    return `${groups
      .slice(0, 4)
      .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
      .join(':')}::/64`;
  }
  const parts = bare.split('.');
  return parts.length === 4 ? `${parts.slice(0, 3).join('.')}.0/24` : bare;
}
