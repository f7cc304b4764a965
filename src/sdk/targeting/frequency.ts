// Display rules: stop rules first (they are final), then when the campaign may show again.
import type { Campaign } from '../../shared/campaign';
import type { CampaignHistory, VisitorContext } from '../context/types';

/** undefined when the campaign may show now, else why not. */
export function frequencyBlock({ frequency: f, layout }: Campaign, h: CampaignHistory | undefined, x: VisitorContext): string | undefined {
  if (!h) return;
  // The default repeat, defined here only: an embed is part of the page (a form in an article),
  // so it is there on every page view its targeting matches; whatever floats over the page shows
  // once per session.
  const { stopAfter: s = {}, repeat: r = { every: layout.type == 'embed' ? 'page' : 'session' } } = f || {};
  const e = r.every;
  const n = (r as { n?: number }).n || 0;
  // Close and sign-up stop by default, a click or K displays only when asked.
  const stop = (s.close !== false && h.c && 'a close') || (s.signup !== false && h.v && 'a sign-up') || (s.click && h.k && 'a click') || (h.d >= s.displays! && s.displays + ' displays');
  if (stop) return 'stopped after ' + stop;
  // A display (or claim) dated after now was stamped by a clock since set back: counted as long
  // ago, or it would hold the campaign back until the clock got there again (years, for a clock
  // once set to 2030), as a session from the future would never end (see currentSession).
  const l = h.l * 1e3 > x.now ? 0 : h.l;
  // A first display another tab claimed but has not painted yet (tabs opened together): for 10 s,
  // unless the campaign shows on every page anyway. A claim that never painted (the tab closed
  // meanwhile) lapses.
  if (!h.d && e != 'page' && x.now - l * 1e3 < 1e4) return 'being shown in another tab';
  if (
    h.d &&
    (e == 'never' ||
      (e == 'page' ? h.p == x.totalPageviews
        : e == 'session' ? l >= Math.floor(x.session.start / 1e3)
        : e == 'pages' ? x.totalPageviews - h.p < n
        : x.now - l * 1e3 < n * (e == 'days' ? 864e5 : 6e4)))
  )
    return 'already shown ' + (n ? `in the last ${n} ${e}` : e == 'never' ? 'once (repeat: never)' : 'this ' + e);
}
