import { afterEach, describe, expect, it, vi } from 'vitest';
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

  it('accepts every condition, operator family, trigger, repeat and layout form', () => {
    const conditions = [
      { type: 'page', field: 'referrer_domain', op: 'not_ends_with', value: ['a.com', 'b.com'] },
      { type: 'page', field: 'hash', op: 'not_exists' },
      { type: 'utm', field: 'utm_content', op: 'starts_with', value: 'x', ci: false },
      { type: 'visitor', is: 'returning' },
      { type: 'pageviews', scope: 'session', op: 'lte', value: 2 },
      { type: 'time', scope: 'since_first_visit', op: 'ne', value: -1.5 },
      { type: 'property', key: 'plan.name', kind: 'string', op: 'not_in', value: ['a'] },
      { type: 'property', key: 'n', kind: 'number', op: 'lt', value: 3 },
      { type: 'property', key: 'd', kind: 'date', op: 'after', value: 1750000000 },
      { type: 'property', key: 'd', kind: 'date', op: 'less_than_days_ago', value: 0 },
      { type: 'property', key: 'b', kind: 'boolean', op: 'exists' },
      { type: 'device', in: ['tablet', 'desktop'] },
      { type: 'language', op: 'not_contains', value: 'fr', ci: true },
      { type: 'country', op: 'in', value: ['FR', 'BE'] },
      { type: 'displays', op: 'eq', value: 0 },
      { all: [] },
    ];
    const triggers = [
      { type: 'landing', delay: 0 }, { type: 'scroll', percent: 50 }, { type: 'exit' }, { type: 'inactivity', seconds: 30 },
      { type: 'click', selector: '.buy' }, { type: 'event', name: 'cart' }, { type: 'pageviews', count: 3, scope: 'total' },
    ];
    const layouts = [
      { type: 'popup' }, { type: 'fullscreen' }, { type: 'bar', position: 'bottom', push: true },
      { type: 'slidein', position: 'bottom-left' }, { type: 'embed', selector: '#signup' },
    ];
    const repeats = ['page', 'session', 'never'].map((every) => ({ every })).concat([{ every: 'minutes', n: 5 }, { every: 'pages', n: 2 }] as never[]);
    for (const t of conditions) expect(err({ targeting: { any: [t] } })).toBeNull();
    for (const trigger of triggers) expect(err({ trigger })).toBeNull();
    for (const layout of layouts) expect(err({ layout })).toBeNull();
    for (const repeat of repeats) expect(err({ frequency: { repeat } })).toBeNull();
    for (const start of ['2025-06-01', '2025-06-01T09:00', '2025-06-01T09:00:30', '2025-06-01T09:00:30.5Z', '2025-06-01T09:00+02:00', '2025-06-01T09:00:00-05:30'])
      expect(err({ schedule: { start } }), start).toBeNull();
    expect(err({ variants: [{ id: 'a', weight: 0 }, { id: 'b', weight: 1 }], control: 0 })).toBeNull();
    expect(err({ variants: [{ id: 'v'.repeat(64), weight: 1 }, { id: 'control group b', weight: 1 }] })).toBeNull();
  });

  // Each bad input is refused by both validators, naming the first bad field by its path.
  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['not an object', { id: 'x' }, 'id: bad value'],
    ['id', { id: 0 }, 'id: bad value'],
    ['id float', { id: 1.5 }, 'id: bad value'],
    ['id missing', { id: undefined }, 'id: required'],
    ['name', { name: 3 }, 'name: bad value'],
    ['status', { status: 'on' }, 'status: bad value'],
    ['status missing', { status: undefined }, 'status: required'],
    ['status is a whole word', { status: 'lively' }, 'status: bad value'],
    ['priority', { priority: '1' }, 'priority: bad value'],
    ['schedule', { schedule: 'weekdays' }, 'schedule: bad value'],
    ['schedule.start', { schedule: { start: 'soon' } }, 'schedule.start: bad value'],
    ['schedule.end epoch', { schedule: { end: 1750000000 } }, 'schedule.end: bad value'],
    // Date.parse in V8 takes these; schedules read strict ISO only.
    ['schedule.start one-digit hour', { schedule: { start: '2025-06-01 9:00' } }, 'schedule.start: bad value'],
    ['schedule.start minutes of one digit', { schedule: { start: '2025-06-01T10:5' } }, 'schedule.start: bad value'],
    ['schedule.start space for the T', { schedule: { start: '2025-06-01 10:00' } }, 'schedule.start: bad value'],
    ['schedule.start month 13', { schedule: { start: '2025-13-01' } }, 'schedule.start: bad value'],
    ['schedule.start slashes', { schedule: { start: '2025/06/01' } }, 'schedule.start: bad value'],
    ['schedule.start words', { schedule: { start: 'June 1, 2025' } }, 'schedule.start: bad value'],
    ['schedule.start list', { schedule: { start: ['2025-06-01'] } }, 'schedule.start: bad value'],
    ['schedule.days', { schedule: { days: [7] } }, 'schedule.days: bad value'],
    ['schedule.days fraction', { schedule: { days: [1.5] } }, 'schedule.days: bad value'],
    ['schedule.days empty', { schedule: { days: [] } }, 'schedule.days: bad value'],
    ['schedule.hours', { schedule: { hours: [9] } }, 'schedule.hours: bad value'],
    ['schedule.hours range', { schedule: { hours: [9, 25] } }, 'schedule.hours: bad value'],
    ['op', { targeting: { all: [{ type: 'device', in: ['mobile'] }, { type: 'signed_up', value: true }, { type: 'page', field: 'url', op: 'foo', value: 'x' }] } }, 'targeting.all[2].op: bad value'],
    ['type', { targeting: { any: [{ not: { type: 'weather' } }] } }, 'targeting.any[0].not.type: bad value'],
    ['inherited name as type', { targeting: { type: 'constructor' } }, 'targeting.type: bad value'],
    ['rule not an object', { targeting: { all: [{ type: 'signed_up', value: true }, 'x'] } }, 'targeting.all[1]: bad value'],
    ['not without a rule', { targeting: { not: null } }, 'targeting.not: bad value'],
    ['group', { targeting: { all: {} } }, 'targeting.all: bad value'],
    // Two group keys: the compiler would read one and drop the other (or throw on a bad one).
    ['all and a bad not', { targeting: { all: [{ type: 'visitor', is: 'new' }], not: 5 } }, 'targeting.not: bad value'],
    ['all and a valid not', { targeting: { all: [{ type: 'visitor', is: 'new' }], not: { type: 'visitor', is: 'new' } } }, 'targeting.all: bad value'],
    ['any and all', { targeting: { any: [], all: [] } }, 'targeting.any: bad value'],
    ['nested any and not', { targeting: { all: [{ any: [], not: { type: 'signed_up', value: true } }] } }, 'targeting.all[0].any: bad value'],
    ['field', { targeting: { type: 'page', field: 'title', op: 'equals', value: 'x' } }, 'targeting.field: bad value'],
    ['query key', { targeting: { type: 'page', field: 'query', op: 'equals', value: 'x' } }, 'targeting.key: required'],
    ['in needs a list', { targeting: { type: 'page', field: 'url', op: 'in', value: 'x' } }, 'targeting.value: bad value'],
    ['not_in needs strings', { targeting: { type: 'page', field: 'url', op: 'not_in', value: ['x', 2] } }, 'targeting.value: bad value'],
    ['string value', { targeting: { type: 'utm', field: 'utm_source', op: 'equals' } }, 'targeting.value: required'],
    ['utm field', { targeting: { type: 'utm', field: 'source', op: 'exists' } }, 'targeting.field: bad value'],
    ['ci', { targeting: { type: 'language', op: 'equals', value: 'fr', ci: 'yes' } }, 'targeting.ci: bad value'],
    ['number op', { targeting: { type: 'visits', op: 'gte' } }, 'targeting.value: required'],
    ['number op name', { targeting: { type: 'displays', op: 'gtee', value: 1 } }, 'targeting.op: bad value'],
    ['visits days', { targeting: { type: 'visits', op: 'gte', value: 1, days: -1 } }, 'targeting.days: bad value'],
    ['scope', { targeting: { type: 'pageviews', scope: 'page', op: 'gt', value: 1 } }, 'targeting.scope: bad value'],
    ['time scope', { targeting: { type: 'time', op: 'gt', value: 1 } }, 'targeting.scope: required'],
    ['visitor', { targeting: { type: 'visitor', is: 'old' } }, 'targeting.is: bad value'],
    ['kind', { targeting: { type: 'property', key: 'a', kind: 'json', op: 'exists' } }, 'targeting.kind: bad value'],
    ['inherited name as kind', { targeting: { type: 'property', key: 'a', kind: 'toString', op: 'exists' } }, 'targeting.kind: bad value'],
    ['key', { targeting: { type: 'property', key: '', kind: 'string', op: 'exists' } }, 'targeting.key: bad value'],
    ['number prop op', { targeting: { type: 'property', key: 'a', kind: 'number', op: 'contains', value: 1 } }, 'targeting.op: bad value'],
    ['number prop value', { targeting: { type: 'property', key: 'a', kind: 'number', op: 'lt', value: '3' } }, 'targeting.value: bad value'],
    ['bool prop value', { targeting: { type: 'property', key: 'a', kind: 'boolean', op: 'is' } }, 'targeting.value: required'],
    ['date value', { targeting: { type: 'property', key: 'a', kind: 'date', op: 'before', value: 'soon' } }, 'targeting.value: bad value'],
    ['days ago value', { targeting: { type: 'property', key: 'a', kind: 'date', op: 'less_than_days_ago', value: -2 } }, 'targeting.value: bad value'],
    ['device', { targeting: { type: 'device', in: ['watch'] } }, 'targeting.in: bad value'],
    ['device empty', { targeting: { type: 'device', in: [] } }, 'targeting.in: bad value'],
    ['country', { targeting: { type: 'country', op: 'in', value: 'FR' } }, 'targeting.value: bad value'],
    ['history', { targeting: { type: 'history', campaign: 2, event: 'liked' } }, 'targeting.event: bad value'],
    ['history campaign', { targeting: { type: 'history', campaign: '2', event: 'seen' } }, 'targeting.campaign: bad value'],
    ['signed_up', { targeting: { type: 'signed_up', value: 1 } }, 'targeting.value: bad value'],
    ['trigger missing', { trigger: undefined }, 'trigger: required'],
    ['trigger type', { trigger: { type: 'hover' } }, 'trigger.type: bad value'],
    ['scroll', { trigger: { type: 'scroll', percent: 120 } }, 'trigger.percent: bad value'],
    ['delay', { trigger: { type: 'landing', delay: -1 } }, 'trigger.delay: bad value'],
    ['exit', { trigger: { type: 'exit', mobile: 'yes' } }, 'trigger.mobile: bad value'],
    ['click', { trigger: { type: 'click' } }, 'trigger.selector: required'],
    ['event', { trigger: { type: 'event', name: '' } }, 'trigger.name: bad value'],
    ['inactivity', { trigger: { type: 'inactivity', seconds: 0 } }, 'trigger.seconds: bad value'],
    ['pageviews', { trigger: { type: 'pageviews', count: 2, scope: 'site' } }, 'trigger.scope: bad value'],
    ['frequency', { frequency: [] }, 'frequency: bad value'],
    ['repeat', { frequency: { repeat: { every: 'hours', n: 2 } } }, 'frequency.repeat.every: bad value'],
    ['repeat n', { frequency: { repeat: { every: 'days' } } }, 'frequency.repeat.n: required'],
    ['stop', { frequency: { stopAfter: { displays: 0 } } }, 'frequency.stopAfter.displays: bad value'],
    ['stop close', { frequency: { stopAfter: { close: 'no' } } }, 'frequency.stopAfter.close: bad value'],
    ['variants empty', { variants: [] }, 'variants: bad value'],
    ['variant not an object', { variants: ['a'] }, 'variants[0]: bad value'],
    ['variant id', { variants: [{ id: 'a', weight: 1 }, { id: 'a', weight: 1 }] }, 'variants[1].id: bad value'],
    ['variant id control', { variants: [{ id: 'control', weight: 1 }] }, 'variants[0].id: bad value'],
    ['variant id over 64 characters', { variants: [{ id: 'v'.repeat(65), weight: 1 }] }, 'variants[0].id: bad value'],
    ['variant id blank', { variants: [{ id: '  ', weight: 1 }] }, 'variants[0].id: bad value'],
    ['variant weight', { variants: [{ id: 'a', weight: -1 }] }, 'variants[0].weight: bad value'],
    ['variant weights', { variants: [{ id: 'a', weight: 0 }] }, 'variants: bad value'],
    ['control', { control: 101 }, 'control: bad value'],
    ['layout', { layout: { type: 'modal' } }, 'layout.type: bad value'],
    ['layout missing', { layout: undefined }, 'layout: required'],
    ['bar position', { layout: { type: 'bar', position: 'middle' } }, 'layout.position: bad value'],
    ['slide-in position', { layout: { type: 'slidein', position: 'top' } }, 'layout.position: bad value'],
    ['embed selector', { layout: { type: 'embed', selector: ' ' } }, 'layout.selector: bad value'],
  ];
  it.each(bad)('%s -> names the field', (_n, over, e) => {
    expect(err(over)).toBe(e);
    expect(err(over, false)).toBe(e);
  });

  it("a text field's autocomplete takes HTML's autofill tokens for it; a typo is refused, naming them", () => {
    const content = (autocomplete: unknown) => ({ ...campaign().content, steps: [{ blocks: [{ type: 'email', label: 'Email' }, { type: 'text', name: 'first', label: 'First name', autocomplete }] }] });
    for (const token of ['given-name', 'family-name', 'postal-code', 'off']) expect(err({ content: content(token) })).toBeNull();
    for (const token of ['givenname', '', 'email', 5]) expect(err({ content: content(token) })).toMatch(/^content\.steps\[0\]\.blocks\[1\]\.autocomplete: must be one of name, honorific-prefix, given-name/);
  });

  it('a non-object is refused', () => {
    expect(validateCampaign(null)).toEqual({ ok: false, error: 'campaign: bad value' });
    expect(validateCampaign([])).toEqual({ ok: false, error: 'campaign: bad value' });
  });

  it('content (and variants\' content) is checked by the full validator only', () => {
    expect(err({ content: { label: 'x' } })).toMatch(/^content\.steps/);
    expect(err({ content: { label: 'x' } }, false)).toBeNull();
    expect(err({ variants: [{ id: 'a', weight: 1, content: { steps: [] } }] })).toMatch(/^variants\[0\]\.content/);
  });

  it('a block type named like a built-in member is an unknown type, not a crash', () => {
    const content = (type: string) => ({ ...campaign().content, steps: [{ blocks: [{ type, text: 'x' }] }] });
    for (const type of ['constructor', 'toString', '__proto__', 'hasOwnProperty'])
      expect(err({ content: content(type) })).toBe(`content.steps[0].blocks[0].type: unknown block '${type}'`);
  });

  // Found by tests/unit/fuzz: an object with a "toString" key that is no function cannot be converted to text.
  it('a block type that is no string is refused with its path, not a crash', () => {
    const content = (type: unknown) => ({ ...campaign().content, steps: [{ blocks: [{ type, text: 'x' }] }] });
    for (const type of [JSON.parse('{"toString": "heading"}'), [JSON.parse('{"toString": 1}')], 5, null])
      expect(err({ content: content(type) })).toBe('content.steps[0].blocks[0].type: must be a string');
  });

  describe('on a page that added an enumerable key to Object.prototype', () => {
    const proto = Object.prototype as Record<string, unknown>;
    afterEach(() => {
      delete proto.clone;
      delete proto.polluted;
    });

    it('messages are still valid (only their own keys are checked), an inherited key is no block type', () => {
      const c = campaign({ content: { ...campaign().content, messages: { close: 'Fermer', error: 'Erreur.' } } });
      proto.clone = function () {};
      expect(validateCampaign(c)).toEqual({ ok: true, campaign: c });
      proto.polluted = 'text:s';
      expect(err({ content: { ...campaign().content, steps: [{ blocks: [{ type: 'polluted', text: 'x' }] }] } })).toBe("content.steps[0].blocks[0].type: unknown block 'polluted'");
    });
  });
});

describe('parseCampaignSet', () => {
  it('keeps valid campaigns and logs one line per skipped one', () => {
    const log = vi.fn();
    const set = parseCampaignSet({ site: 's1', timezone: 'Europe/Paris', country: 'fr', campaigns: [campaign(), campaign({ id: 2, status: 'x' as never }), 7] }, log);
    expect(set).toEqual({ site: 's1', timezone: 'Europe/Paris', country: 'FR', campaigns: [campaign()] });
    expect(log.mock.calls).toEqual([['campaign 2 skipped: status: bad value'], ['campaign #2 skipped: campaign: bad value']]);
  });
  it('survives garbage', () => {
    const log = vi.fn();
    expect(parseCampaignSet('nope', log)).toEqual({ site: '', timezone: undefined, country: null, campaigns: [] });
    expect(log).toHaveBeenCalledWith('campaign set: campaigns must be a list');
  });
});
