// Display rules: stop rules first (they are final), then when the campaign may show again.
import type { Frequency } from '../../shared/campaign-targeting';
import type { CampaignHistory, VisitorContext } from '../context/types';

const UNIT = { minutes: 6e4, days: 864e5 } as const;

/** undefined when the campaign may show now, else why not. */
export function frequencyBlock(f: Frequency | undefined, h: CampaignHistory | undefined, x: VisitorContext): string | undefined {
  if (!h) return;
  const s = f?.stopAfter ?? {};
  const r = f?.repeat ?? { every: 'session' };
  if (s.close !== false && h.c) return 'stopped: the visitor closed it';
  if (s.signup !== false && h.v) return 'stopped: the visitor signed up';
  if (s.click && h.k) return 'stopped: the visitor clicked it';
  if (s.displays && h.d >= s.displays) return `stopped: shown ${h.d} times, limit ${s.displays}`;
  if (!h.d) return;
  const e = r.every;
  if (e == 'never') return 'already shown once (repeat: never)';
  if (e == 'page') return h.p == x.totalPageviews ? 'already shown on this page' : undefined;
  if (e == 'session') return h.l >= Math.floor(x.session.start / 1000) ? 'already shown this session' : undefined;
  if (e == 'pages') {
    const n = x.totalPageviews - h.p;
    return n < r.n ? `shown ${n} pages ago, repeats every ${r.n} pages` : undefined;
  }
  const ago = x.now - h.l * 1000;
  if (ago < r.n * UNIT[e]) return `shown ${Math.floor(ago / 6e4)} min ago, repeats every ${r.n} ${e}`;
}
