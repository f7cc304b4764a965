// The UiHost handed to the UI chunk for one shown campaign: it records what the visitor did
// (history for frequency rules, analytics, the listen API) and sends sign-ups to the outbox.
import { nanoid } from 'nanoid';
import type { Campaign } from '../../shared/campaign';
import type { SignupPayload } from '../../shared/signup';
import type { Outbox } from '../collect/outbox';
import type { Track } from '../collect/tracker';
import type { VisitorContext } from '../context/types';
import type { UiHost } from '../render/contract';
import type { EngineDeps } from './types';

export interface HostKit {
  deps: EngineDeps;
  /** The visitor context with the campaign set's country. */
  ctx(): VisitorContext;
  track: Track;
  outbox: Outbox;
  now(): number;
}

/** History and analytics of a display (shown, or counted for the control group). */
export function recordDisplay({ deps, ctx, track, now }: HostKit, c: Campaign, group?: string) {
  deps.history.update(c.id, (h) => {
    h.d++;
    h.l = Math.floor(now() / 1000);
    h.p = ctx().totalPageviews;
    if (group) h.g = group;
  });
  track('display', c.id, group);
}

export function uiHost(kit: HostKit, group: string | undefined, closed: () => void, noshow: () => void): UiHost {
  const { deps, track, outbox } = kit;
  const about = (c: Campaign) => ({ popup: { id: c.id, name: c.name }, variant: group });
  return {
    context: kit.ctx,
    log: deps.log,
    nonce: deps.nonce,
    noshow,
    displayed(c) {
      recordDisplay(kit, c, group);
      deps.emit('after-popup-display', about(c));
    },
    closed(c) {
      deps.history.update(c.id, (h) => void h.c++);
      track('close', c.id, group);
      closed();
      deps.emit('after-popup-close', about(c));
    },
    clicked(c, href) {
      const detail = { ...about(c), href };
      deps.emit('before-tracked-click', detail);
      deps.history.update(c.id, (h) => void h.k++);
      track('click', c.id, group);
      deps.emit('after-tracked-click', detail);
    },
    async submit(c, fields, consent, hp) {
      const detail = { ...about(c), fields };
      if (!deps.emit('before-form-submit', detail)) {
        deps.log('sign-up cancelled by a before-form-submit listener', c.id);
        return { ok: false, error: 'cancelled' };
      }
      const { email = '', ...rest } = fields;
      const p: SignupPayload = { id: nanoid(), site: deps.site, wisepop_id: c.id, email, fields: rest };
      if (consent) p.consent = consent;
      if (hp) p.hp = hp;
      if (group) p.variant = group;
      const result = await outbox.submit(p);
      // A honeypot hit goes to the server (which drops it) but is no conversion.
      if (result.ok && !hp) {
        deps.history.update(c.id, (h) => void h.v++);
        deps.history.markSignedUp();
        track('signup', c.id, group);
      }
      deps.emit('after-form-submit', { ...detail, ...result });
      return result;
    },
  };
}
