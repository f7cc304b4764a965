// The UiHost of one shown campaign: it records what the visitor did (history for frequency
// rules, analytics, the listen API) and sends sign-ups through the outbox.
import type { Campaign } from '../../shared/campaign';
import type { EventKind } from '../../shared/events';
import type { CampaignHistory } from '../context/types';
import type { UiHost } from '../render/contract';
import { signupId } from '../../shared/signup';
import type { CollectKit } from './contract';
import type { Outbox } from './outbox';
import type { Track } from './tracker';

type Counter = 'c' | 'k' | 'v';

export function uiHost(kit: CollectKit, outbox: Outbox, track: Track, group: string | undefined, closed: () => void): UiHost {
  const { deps } = kit;
  const about = (c: Campaign, more?: object): Record<string, unknown> => ({ popup: { id: c.id, name: c.name }, variant: group, ...more });
  /** One more close, click or sign-up in the campaign's history and in analytics. */
  const count = (c: Campaign, h: Counter & keyof CampaignHistory, kind: EventKind) => {
    deps.history.update(c.id, (x) => void x[h]++);
    track(kind, c.id, group);
  };
  // The display counts once painted (the UI chunk's next frame); a visitor quick enough to close
  // it before then (Esc the instant it appears, or a slow device) still saw it: the close counts
  // the display first, so no close goes without one, and the display counts once.
  let seen: 1 | undefined;
  const displayed = (c: Campaign) => {
    if (seen) return;
    seen = 1;
    kit.record(c, group);
    track('display', c.id, group);
    deps.emit('after-popup-display', about(c));
  };
  return {
    context: kit.ctx,
    log: deps.log,
    nonce: deps.nonce,
    // The command layer sets the record and refreshes the engine, which removes everything shown.
    noshow: deps.noshow,
    displayed,
    closed(c) {
      displayed(c);
      count(c, 'c', 'close');
      closed();
      deps.emit('after-popup-close', about(c));
    },
    clicked(c, href) {
      const detail = about(c, { href });
      // A before-* listener returning false vetoes: here, the tracking (never the click itself).
      if (!deps.emit('before-tracked-click', detail)) return;
      count(c, 'k', 'click');
      deps.emit('after-tracked-click', detail);
    },
    async submit(c, fields, consent, hp, form) {
      const detail = about(c, { fields });
      if (!deps.emit('before-form-submit', detail, form)) {
        deps.log('sign-up cancelled by a listener', c.id);
        return { ok: false, error: 'cancelled' };
      }
      // Read from the detail: a listener may have replaced the object (`e.detail.fields = {...}`).
      const { email = '', ...rest } = detail.fields as typeof fields;
      // The server refuses control characters and half a surrogate pair (signup.ts), which a
      // hidden field can carry (a URL parameter's %01, a property cut at 255 characters inside an
      // emoji): the visitor could never fix that, and every try would be refused. Removed here;
      // read per code point (`u`), a surrogate (\p{Cs}) is one without its other half. Own
      // keys: for…in meets what the page put on Object.prototype (a legacy method: no replace()).
      // A before-form-submit listener may have set a number or a boolean (`fields.score = 42`):
      // sent as its text, as a hidden field's is; null or undefined leaves the field out. Either
      // threw here before, and the sign-up was lost.
      for (const k of Object.keys(rest))
        if (rest[k] != null) rest[k] = String(rest[k]).replace(/[\0-\b\v\f\x0e-\x1f\x7f\p{Cs}]/gu, '');
        else delete rest[k];
      // Undefined members (no consent, no variant) vanish in JSON, stored or sent.
      const result = await outbox.submit({ id: signupId(kit.id()), site: deps.site, wisepop_id: c.id, email, fields: rest, consent, hp, variant: group });
      // A honeypot hit goes to the server (which drops it) but is no conversion.
      if (result.ok && !hp) {
        count(c, 'v', 'signup');
        deps.history.markSignedUp();
      }
      deps.emit('after-form-submit', { ...detail, ...result }, form);
      // A refusal names the field ("email: not a valid address", "fields.age: …"): the form shows it there.
      const named = !result.ok && /^(email|fields\.(.+?)):/.exec(result.error);
      return named ? { ...result, field: named[2] || named[1] } : result;
    },
  };
}
