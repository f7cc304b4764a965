// Fuzz: campaigns mutated at random, through the validator, the compiler and the evaluation the
// engine runs, against visitor contexts built from random records. Invariants: nothing throws; a
// refused campaign is refused with the path of a field that is there (or, when "required", is not);
// one bad campaign never takes the others down; an accepted one compiles and evaluates, and its
// debug explanation is produced.
import { describe, expect, it } from 'vitest';
import { validateCampaign, validateCampaignCore, type Campaign } from '../../../src/shared/campaign';
import { compile, evaluate } from '../../../src/sdk/targeting';
import { campaign as fixture } from '../targeting/fixtures';
import { deep, fuzz, hostile, mutate, RUNS } from './gen';
import { rule, seedCampaign, VOCAB, verdict, visitor } from './corpus';

describe('fuzz: campaign validation, compilation and evaluation', () => {
  it('the validator never throws and names the bad field by a path the campaign has (or lacks, for "required")', () => {
    const fails = fuzz(
      'validate',
      1200,
      (r): unknown => (r.chance(0.05) ? r.pick([null, 1, 'x', [], deep(50, 'all')]) : mutate(seedCampaign(r), r, VOCAB, 1 + r.int(4))),
      (c) => {
        verdict(c, validateCampaign(c));
        verdict(c, validateCampaignCore(c));
      },
    );
    expect(fails).toEqual([]);
  }, 20_000 * RUNS);

  it('compiles a set holding mutants beside valid campaigns: the valid ones always run, each mutant runs or is skipped alone; evaluation and its explanation never throw', () => {
    const fails = fuzz(
      'compile+evaluate',
      700,
      (r) => {
        const bad = Array.from({ length: 1 + r.int(3) }, () => mutate(seedCampaign(r), r, VOCAB, 1 + r.int(3), true));
        return { bad, at: r.int(bad.length + 1), timezone: r.pick<unknown>([undefined, 'UTC', 'Europe/Paris', 'America/Santiago', 'Nowhere/Else', '', 5, null, ['UTC'], hostile()]) as string };
      },
      ({ bad, at, timezone }, r) => {
        let targeting: unknown;
        while (validateCampaignCore(fixture({ targeting: (targeting = rule(r)) as Campaign['targeting'] })).ok !== true);
        const good = [fixture({ id: 5001, name: 'good one' }), fixture({ id: 5002, name: 'good two', targeting: targeting as Campaign['targeting'] })];
        const set: unknown[] = [...bad];
        set.splice(at, 0, ...good);
        const lines: string[] = [];
        const k = compile(set, { timezone, log: (l) => lines.push(l) });
        expect(k.ranked.map(([c]) => c.id)).toEqual(expect.arrayContaining([5001, 5002]));
        for (const c of bad) {
          const v = validateCampaignCore(c);
          // An accepted campaign compiles; a refused one is skipped with the validator's error.
          if (v.ok) expect(k.ranked.some(([x]) => x === c), 'accepted, yet not compiled: ' + JSON.stringify(k.bad)).toBe(true);
          else expect([lines.some((l) => l.endsWith(' skipped: ' + v.error)), k.bad.some((b) => b.reason == 'invalid: ' + v.error)]).toEqual([true, true]);
        }
        expect(k.bad.length).toBe(set.length - k.ranked.length);
        for (let e = 0; e < 4; e++) {
          const d = evaluate(k, visitor(r), r.next);
          expect(d.debug.length).toBe(set.length);
          for (const l of d.debug) expect(['string', 'undefined']).toContain(typeof l.reason);
          for (const c of d.eligible) expect(c.campaign.status).toBe('live');
          // The engine's debug log and `wisepops('debug')` print these.
          JSON.stringify(d.debug);
        }
      },
    );
    expect(fails).toEqual([]);
  }, 20_000 * RUNS);
});
