import { describe, expect, it, vi } from 'vitest';
import { parseCampaignSet, validateCampaign, validateCampaignCore } from '../../../src/shared/campaign';
import { campaign } from '../targeting/fixtures';

const err = (over: Record<string, unknown>, full = true) => {
  const r = (full ? validateCampaign : validateCampaignCore)({ ...campaign(), ...over });
  return r.ok ? null : r.error;
};

describe('validateCampaign', () => {
  it('accepts a complete campaign with every optional field', () => {
    const c = campaign({
      priority: 3,
      schedule: { start: '2025-01-01', end: '2025-12-31T23:00:00Z', days: [1, 2, 3], hours: [9, 17.5] },
      targeting: {
        all: [
          { type: 'page', field: 'query', key: 'ref', op: 'in', value: ['a', 'b'], ci: true },
          { any: [{ type: 'utm', field: 'utm_source', op: 'exists' }, { not: { type: 'device', in: ['mobile'] } }] },
          { type: 'visits', op: 'gte', value: 5, days: 30 },
          { type: 'property', key: 'last', kind: 'date', op: 'before', value: '2025-01-01' },
          { type: 'property', key: 'last', kind: 'date', op: 'more_than_days_ago', value: 30 },
          { type: 'property', key: 'vip', kind: 'boolean', op: 'is', value: true },
          { type: 'property', key: 'n', kind: 'number', op: 'not_exists' },
          { type: 'country', op: 'not_in', value: ['US'] },
          { type: 'history', campaign: 2, event: 'converted', negate: true },
          { type: 'signed_up', value: false },
          { type: 'page', field: 'path', op: 'matches', value: '([' },
        ],
      },
      trigger: { type: 'exit', mobile: true, oncePerSession: false },
      frequency: { repeat: { every: 'days', n: 3 }, stopAfter: { close: true, signup: true, click: false, displays: 5 } },
      variants: [{ id: 'a', weight: 50 }, { id: 'b', weight: 50, content: campaign().content }],
      control: 10,
    });
    expect(validateCampaign(c)).toEqual({ ok: true, campaign: c });
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['not an object', { id: 'x' }, 'id: must be a positive integer'],
    ['id', { id: 0 }, 'id: must be a positive integer'],
    ['id float', { id: 1.5 }, 'id: must be a positive integer'],
    ['name', { name: 3 }, 'name: must be a string'],
    ['status', { status: 'on' }, "status: unknown status 'on'"],
    ['status missing', { status: undefined }, 'status: required'],
    ['priority', { priority: '1' }, 'priority: must be a number'],
    ['schedule.start', { schedule: { start: 'soon' } }, 'schedule.start: must be an ISO date'],
    ['schedule.days', { schedule: { days: [7] } }, 'schedule.days: must list days 0 (Sunday) to 6'],
    ['schedule.hours', { schedule: { hours: [9] } }, 'schedule.hours: must be [from, to] hours 0–24'],
    ['op', { targeting: { all: [{ type: 'device', in: ['mobile'] }, { type: 'signed_up', value: true }, { type: 'page', field: 'url', op: 'foo', value: 'x' }] } }, "targeting.all[2].op: unknown operator 'foo'"],
    ['type', { targeting: { any: [{ not: { type: 'weather' } }] } }, "targeting.any[0].not.type: unknown condition type 'weather'"],
    ['group', { targeting: { all: {} } }, 'targeting.all: must be a list'],
    ['field', { targeting: { type: 'page', field: 'title', op: 'equals', value: 'x' } }, "targeting.field: unknown field 'title'"],
    ['query key', { targeting: { type: 'page', field: 'query', op: 'equals', value: 'x' } }, 'targeting.key: required for a query parameter'],
    ['in needs a list', { targeting: { type: 'page', field: 'url', op: 'in', value: 'x' } }, 'targeting.value: must be a non-empty list of strings'],
    ['string value', { targeting: { type: 'utm', field: 'utm_source', op: 'equals' } }, 'targeting.value: must be a string or a list of strings'],
    ['utm field', { targeting: { type: 'utm', field: 'source', op: 'exists' } }, "targeting.field: unknown field 'source'"],
    ['ci', { targeting: { type: 'language', op: 'equals', value: 'fr', ci: 'yes' } }, 'targeting.ci: must be true or false'],
    ['number op', { targeting: { type: 'visits', op: 'gte' } }, 'targeting.value: must be a number'],
    ['visits days', { targeting: { type: 'visits', op: 'gte', value: 1, days: -1 } }, 'targeting.days: must be a number >= 0'],
    ['scope', { targeting: { type: 'pageviews', scope: 'page', op: 'gt', value: 1 } }, "targeting.scope: unknown scope 'page'"],
    ['kind', { targeting: { type: 'property', key: 'a', kind: 'json', op: 'exists' } }, "targeting.kind: unknown kind 'json'"],
    ['key', { targeting: { type: 'property', key: '', kind: 'string', op: 'exists' } }, 'targeting.key: must be a non-empty string'],
    ['number prop op', { targeting: { type: 'property', key: 'a', kind: 'number', op: 'contains', value: 1 } }, "targeting.op: unknown operator 'contains'"],
    ['bool prop value', { targeting: { type: 'property', key: 'a', kind: 'boolean', op: 'is' } }, 'targeting.value: must be true or false'],
    ['date value', { targeting: { type: 'property', key: 'a', kind: 'date', op: 'before', value: 'soon' } }, 'targeting.value: must be a date'],
    ['days ago value', { targeting: { type: 'property', key: 'a', kind: 'date', op: 'less_than_days_ago', value: -2 } }, 'targeting.value: must be a number >= 0'],
    ['device', { targeting: { type: 'device', in: ['watch'] } }, 'targeting.in: must list mobile, tablet or desktop'],
    ['country', { targeting: { type: 'country', op: 'in', value: 'FR' } }, 'targeting.value: must be a non-empty list of country codes'],
    ['history', { targeting: { type: 'history', campaign: 2, event: 'liked' } }, "targeting.event: unknown event 'liked'"],
    ['trigger missing', { trigger: undefined }, 'trigger: must be an object'],
    ['trigger type', { trigger: { type: 'hover' } }, "trigger.type: unknown trigger 'hover'"],
    ['scroll', { trigger: { type: 'scroll', percent: 120 } }, 'trigger.percent: must be a number from 0 to 100'],
    ['delay', { trigger: { type: 'landing', delay: -1 } }, 'trigger.delay: must be a number >= 0'],
    ['click', { trigger: { type: 'click' } }, 'trigger.selector: must be a CSS selector'],
    ['event', { trigger: { type: 'event', name: '' } }, 'trigger.name: must be an event name'],
    ['inactivity', { trigger: { type: 'inactivity', seconds: 0 } }, 'trigger.seconds: must be a number >= 1'],
    ['pageviews', { trigger: { type: 'pageviews', count: 2, scope: 'site' } }, "trigger.scope: unknown scope 'site'"],
    ['repeat', { frequency: { repeat: { every: 'hours', n: 2 } } }, "frequency.repeat.every: unknown repeat 'hours'"],
    ['repeat n', { frequency: { repeat: { every: 'days' } } }, 'frequency.repeat.n: must be a number >= 1'],
    ['stop', { frequency: { stopAfter: { displays: 0 } } }, 'frequency.stopAfter.displays: must be a number >= 1'],
    ['variant id', { variants: [{ id: 'a', weight: 1 }, { id: 'a', weight: 1 }] }, 'variants[1].id: must be a unique non-empty string other than "control"'],
    ['variant weight', { variants: [{ id: 'a', weight: -1 }] }, 'variants[0].weight: must be a number >= 0'],
    ['variant weights', { variants: [{ id: 'a', weight: 0 }] }, 'variants: needs a weight above 0'],
    ['control', { control: 101 }, 'control: must be a number from 0 to 100'],
    ['layout', { layout: { type: 'modal' } }, 'layout.type: must be one of popup, fullscreen, bar, slidein, embed'],
  ];
  it.each(bad)('%s -> names the field', (_n, over, e) => {
    expect(err(over)).toBe(e);
    expect(err(over, false)).toBe(e);
  });

  it('a non-object is refused', () => {
    expect(validateCampaign(null)).toEqual({ ok: false, error: 'campaign: must be an object' });
    expect(validateCampaign([])).toEqual({ ok: false, error: 'campaign: must be an object' });
  });

  it('content (and variants\' content) is checked by the full validator only', () => {
    expect(err({ content: { label: 'x' } })).toMatch(/^content\.steps/);
    expect(err({ content: { label: 'x' } }, false)).toBeNull();
    expect(err({ variants: [{ id: 'a', weight: 1, content: { steps: [] } }] })).toMatch(/^variants\[0\]\.content/);
  });
});

describe('parseCampaignSet', () => {
  it('keeps valid campaigns and logs one line per skipped one', () => {
    const log = vi.fn();
    const set = parseCampaignSet({ site: 's1', timezone: 'Europe/Paris', country: 'fr', campaigns: [campaign(), campaign({ id: 2, status: 'x' as never }), 7] }, log);
    expect(set).toEqual({ site: 's1', timezone: 'Europe/Paris', country: 'FR', campaigns: [campaign()] });
    expect(log.mock.calls).toEqual([["campaign 2 skipped: status: unknown status 'x'"], ['campaign #2 skipped: campaign: must be an object']]);
  });
  it('survives garbage', () => {
    const log = vi.fn();
    expect(parseCampaignSet('nope', log)).toEqual({ site: '', timezone: undefined, country: null, campaigns: [] });
    expect(log).toHaveBeenCalledWith('campaign set: campaigns must be a list');
  });
});
