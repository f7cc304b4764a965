// One campaign on screen: its frame (dialog or region), the current step as a form, the close
// button and the "Don't show popups again" link. Steps advance on `next`; `submit` hands the
// fields to the host and shows the success step only when the host says they are safe.
// Attributes, props and state keys stand in the order that gzips smallest, which says nothing else.
/** @jsxRuntime classic */
/** @jsx h */
import { Component, Fragment, h } from 'preact';
import type { FieldBlock, MessageKey, Style } from '../../shared/campaign-content';
import { isField } from '../../shared/campaign-content';
import type { ShowRequest, SubmitResult } from './contract';
import { keyOf, renderBlock } from './blocks';
import { DEFAULT_MESSAGES, hiddenValue, invalid, type Messages } from './form';

export interface AppProps {
  req: ShowRequest;
  modal: boolean;
  /** Close by the visitor: recorded, animated out. */
  dismiss(): void;
  optOut(): void;
  /** Wraps a handler so that anything it throws goes to the debug log, never to the page. */
  safe<A extends unknown[]>(fn: (...a: A) => unknown): (...a: A) => void;
  /**
   * After a step change or failed validation: focus the first invalid field, else the first field,
   * else the step, scrolled into view (a tall form on a phone); not if focus has gone to the page.
   */
  focusStep(): void;
}

interface State {
  /** Index of the current step; steps.length is the success step. */
  stepIndex: number;
  errors: Record<string, string>;
  busy?: boolean;
  failed?: boolean;
}

/**
 * A map by field key with no prototype: a field named `constructor` or `toString`, or a key a
 * page added to Object.prototype, finds nothing in it that it did not put there.
 */
const bag = <T,>(): Record<string, T> => Object.create(null);

export class App extends Component<AppProps, State> {
  /**
   * What the visitor gave each field, by key, read when a step is sent on: a step drawn again (a
   * refusal sends the visitor back) shows it. No prototype, so that a field named `constructor`
   * starts empty.
   */
  declare given: Record<string, string>;
  /** The honeypot's value: read on the first submit, before anything is sent (undefined until then). */
  declare honeypot: string;
  declare msgs: Messages;
  /** The step of each field the visitor was shown, by key. */
  declare stepOf: Record<string, number>;
  /** The countdowns' clock, once one is drawn. */
  declare t: ReturnType<typeof setInterval>;

  constructor(p: AppProps) {
    super(p);
    this.state = { errors: bag(), stepIndex: 0 };
    this.given = bag();
    this.stepOf = bag();
    this.msgs = { ...DEFAULT_MESSAGES, ...p.req.content.messages };
  }

  /** Next or submit: checks the current step's fields (kept in `given`), then moves on or sends. */
  async sendStep(e: SubmitEvent) {
    e.preventDefault();
    const {
      campaign,
      content: { steps },
      host,
    } = this.props.req;
    let { stepIndex: step, busy } = this.state;
    if (busy) return;
    // The success step: nothing comes next and nothing is left to send, so next or submit there
    // (refused by checkContent, but drawn if it arrives) closes.
    if (!steps[step]) return this.props.dismiss();
    const blocks = steps[step].blocks;
    const form = e.currentTarget as HTMLFormElement;
    const get = (k: string) => form.elements.namedItem(k) as HTMLInputElement | null;
    const errors: Record<string, string> = bag();
    /** Set when a field of the step is wrong. */
    let bad: MessageKey | undefined;
    for (const b of blocks.filter(isField) as FieldBlock[]) {
      const k = keyOf(b);
      const el = get(k);
      // Hidden fields have no element: their values are read at submit.
      if (!el) continue;
      this.stepOf[k] = step;
      const w = invalid(b, (this.given[k] = el.type == 'checkbox' && !el.checked ? '' : el.value.trim()));
      if (w) errors[k] = this.msgs[(bad = w)];
    }
    // Not `||=`: esbuild lowers that on a shortened key to a computed one and a temporary (+15 B).
    this.honeypot = this.honeypot || get('pl_hp')!.value;
    // Focus follows the errors to show (once they are drawn).
    this.setState({ errors, failed: false }, bad && this.props.focusStep);
    if (bad) return;
    // The button's action; Enter submits on a step with a submit button, else goes on.
    const by = e.submitter && (e.submitter as HTMLElement).dataset.a;
    if ((by || (blocks.some((b) => (b as { action?: string }).action == 'submit') && 'submit')) != 'submit' && step < steps.length - 1) return this.toStep(step + 1);
    // Submit: the fields of every step, hidden ones filled now.
    const all = steps.flatMap((s) => s.blocks).filter(isField) as FieldBlock[];
    if (!all[0]) return this.toStep(steps.length);
    const fields: Record<string, string> = {};
    let consent: string | undefined;
    let r: SubmitResult;
    // This handler is async, so what throws in it is a rejection that `safe` never sees: the calls
    // out (the host's context and submit) are caught here, as a refusal logged with its error.
    try {
      for (const b of all) {
        const k = keyOf(b);
        const v = b.type == 'hidden' ? hiddenValue(host.context(), b.from) : this.given[k] || '';
        if (b.type == 'consent' && v) consent = b.label;
        if (v && (b.type != 'consent' || b.name)) fields[k] = v;
        if (b.type == 'email') fields.email = v;
      }
      this.setState({ busy: true });
      r = await host.submit(campaign, fields, consent, this.honeypot, form);
    } catch (err) {
      r = { ok: false, error: '' + err };
    }
    if (r.ok) return this.toStep(steps.length);
    const k = r.field;
    host.log('poplet ui: sign-up refused', r.error);
    // The field the server refused, if it named one, gets its message too, on its own step: an
    // earlier one is drawn again, with what was typed in it, and the field takes focus.
    // (`errors` is still the step's empty set; `>= 0`, not `in`: an inherited name is no step.)
    if (k) errors[k] = this.msgs[k == 'email' ? k : 'error'];
    if (this.stepOf[k!] >= 0) step = this.stepOf[k!];
    // Preact takes a falsy callback (k may be '') as none.
    this.setState({ errors, failed: true, stepIndex: step, busy: false }, (k && this.props.focusStep) as () => void);
  }

  /** To another step: focus follows once it is drawn. */
  toStep(step: number) {
    this.setState({ errors: bag(), stepIndex: step, busy: false }, this.props.focusStep);
  }

  render() {
    // dismiss and optOut go to Preact unwrapped: they never throw (every call out of them is
    // guarded in mount).
    const { optOut, safe, modal, dismiss: close, req } = this.props;
    const { campaign, content } = req;
    const { stepIndex: step, errors, busy, failed } = this.state;
    const s = content.style || {};
    const vars: Record<string, string> = {};
    // content.style.accentText → --pl-accent-text (the one name in two words); numbers are px.
    // (closeButton becomes a variable too, that nothing reads.)
    for (const k of Object.keys(s)) {
      const v = s[k as keyof Style];
      vars['--pl-' + k.replace('T', '-t')] = typeof v == 'number' ? v + 'px' : v!;
    }
    const l = campaign.layout;
    const blocks = (content.steps[step] || content.success).blocks;
    const closeStyle = s.closeButton || 'icon';
    const box = (
      // A modal's box is inside the <dialog> (see mount), which carries the role and the label.
      // Preact leaves out a false role (not an aria-* attribute: "false"), in fewer bytes than undefined.
      <div class="bx" role={(!modal && 'region') as 'region'} tabIndex={-1} aria-label={modal ? undefined : content.label}>
        {closeStyle != 'none' && (
          <button type="button" class={'x ' + closeStyle} onClick={close} aria-label={this.msgs.close}>
            {closeStyle == 'icon' ? '×' : this.msgs.close}
          </button>
        )}
        <form class="st" key={step} tabIndex={-1} noValidate onSubmit={safe(this.sendStep.bind(this))}>
          {/* The success step is announced as it replaces the form: its blocks sit in an alert (not
              the form itself: a form may not take role=alert). Steps draw their blocks as they are. */}
          {h((content.steps[step] ? Fragment : 'div') as 'div', { class: 'st', role: 'alert' }, blocks.map((b, i) =>
            // Keys in the order that gzips smallest.
            renderBlock(b, {
              given: this.given[keyOf(b as FieldBlock)],
              // Only a field shows its error: another block that shares a field's key ignores it.
              errorText: errors[keyOf(b as FieldBlock)],
              follow: safe((href: string, closes: boolean) => (req.host.clicked(campaign, href), closes && close())),
              idPrefix: 'f' + step + '-' + i,
              dismiss: close,
              chooseText: this.msgs.choose,
              busy,
              // A countdown drawn for the first time starts the clock: the campaign is drawn again
              // every second until unmounted (Preact then sets `base` to null). Content without
              // one is drawn only when it changes.
              tick: () => this.t || (this.t = setInterval(() => (this.base ? this.forceUpdate() : clearInterval(this.t)), 1000)),
            }),
          ))}
          {failed && <p class="fe" role="alert">{this.msgs.error}</p>}
          <input name="pl_hp" class="hp" aria-hidden autocomplete="off" tabIndex={-1} />
        </form>
        {content.noshowLink !== false && (
          <button type="button" class="ns" onClick={optOut}>
            {this.msgs.noshow}
          </button>
        )}
      </div>
    );
    return (
      // A popup's root is its overlay: a press on it (not on the box) closes. A full screen's root,
      // the other modal's, has no area of its own to press (its fixed box covers the screen). On
      // mousedown, not click: a drag that selects text in a field and ends on the overlay is a click there.
      <div onMouseDown={(e: MouseEvent) => e.target == e.currentTarget && modal && close()} class={`r ${l.type} ${((l as { position?: string }).position || '').replace('-', ' ')}`} style={vars}>
        {box}
      </div>
    );
  }
}
