// One campaign on screen: its frame (dialog or region), the current step as a form, the close
// button and the "Don't show popups again" link. Steps advance on `next`; `submit` hands the
// fields to the host and shows the success step only when the host says they are safe.
import { Component } from 'preact';
import type { Block, FieldBlock, Step } from '../../shared/campaign-content';
import { isField } from '../../shared/campaign-content';
import type { ShowRequest } from './contract';
import { keyOf, renderBlock } from './blocks';
import { DEFAULT_MESSAGES, hiddenValue, invalid, type Messages } from './form';

export interface AppProps {
  req: ShowRequest;
  modal: boolean;
  /** Close by the visitor: recorded, animated out. */
  close(): void;
  noshow(): void;
  /** Calls `fn`, sending anything it throws to the debug log instead of the page. */
  safe<A extends unknown[]>(fn: (...a: A) => unknown): (...a: A) => void;
  /** After a step change or failed validation: focus the first invalid field, else the first field, else the step. */
  focusStep(): void;
}

interface State {
  /** Index of the current step; steps.length is the success step. */
  step: number;
  errors: Record<string, string>;
  busy: boolean;
  failed: boolean;
}

const CLOSE_ICON = (
  <svg viewBox="0 0 24 24" aria-hidden="true" fill="none">
    <path d="M5 5l14 14M19 5L5 19" />
  </svg>
);

export class App extends Component<AppProps, State> {
  override state: State = { step: 0, errors: {}, busy: false, failed: false };
  values: Record<string, string> = {};
  hp = '';
  msgs: Messages = { ...DEFAULT_MESSAGES, ...this.props.req.content.messages };
  alive = true;
  moved = false;

  override componentWillUnmount() {
    this.alive = false;
  }

  override componentDidUpdate() {
    if (this.moved) {
      this.moved = false;
      this.props.focusStep();
    }
  }

  /** Reads and checks the current step's fields; true when they are all valid. */
  read(form: HTMLFormElement, blocks: Block[]): boolean {
    const errors: Record<string, string> = {};
    for (const b of blocks.filter(isField) as FieldBlock[]) {
      if (b.type == 'hidden') continue;
      const el = form.elements.namedItem(keyOf(b)) as HTMLInputElement | null;
      const v = !el ? '' : el.type == 'checkbox' ? (el.checked ? 'true' : '') : el.value.trim();
      this.values[keyOf(b)] = v;
      const bad = invalid(b, v);
      if (bad) errors[keyOf(b)] = this.msgs[bad];
    }
    const hp = form.elements.namedItem('pl_hp') as HTMLInputElement | null;
    this.hp ||= hp?.value ?? '';
    const ok = !Object.keys(errors).length;
    this.moved = !ok;
    this.setState({ errors, failed: false });
    return ok;
  }

  onSubmit = (e: SubmitEvent) => {
    e.preventDefault();
    const { content } = this.props.req;
    const { step, busy } = this.state;
    const blocks = content.steps[step].blocks;
    if (busy || !this.read(e.currentTarget as HTMLFormElement, blocks)) return;
    const action = (e.submitter as HTMLElement | null)?.dataset.a ?? (blocks.some((b) => b.type == 'button' && b.action == 'submit') ? 'submit' : 'next');
    if (action == 'next' && step < content.steps.length - 1) {
      this.moved = true;
      this.setState({ step: step + 1, errors: {} });
    } else this.submit();
  };

  async submit() {
    const { campaign, content, host } = this.props.req;
    const all = content.steps.flatMap((s: Step) => s.blocks).filter(isField) as FieldBlock[];
    if (!all.length) return this.done();
    const fields: Record<string, string> = {};
    let consent: string | undefined;
    const ctx = all.some((b) => b.type == 'hidden') ? host.context() : undefined;
    for (const b of all) {
      const k = keyOf(b);
      const v = b.type == 'hidden' ? hiddenValue(ctx!, b.from) : this.values[k] ?? '';
      if (b.type == 'consent' && v) consent = b.label;
      if (v && (b.type != 'consent' || b.name)) fields[k] = v;
      if (b.type == 'email') fields.email = v;
    }
    this.setState({ busy: true, failed: false });
    let ok = false;
    try {
      const r = await host.submit(campaign, fields, consent, this.hp);
      ok = r.ok;
      if (!r.ok) host.log('poplet ui: sign-up refused', r.error);
    } catch (err) {
      host.log('poplet ui: submit failed', err);
    }
    if (!this.alive) return;
    if (ok) this.done();
    else this.setState({ busy: false, failed: true });
  }

  done() {
    this.moved = true;
    this.setState({ step: this.props.req.content.steps.length, busy: false, errors: {} });
  }

  link = (href: string, closes: boolean) => {
    const { campaign, host } = this.props.req;
    host.clicked(campaign, href);
    if (closes) this.props.close();
  };

  render() {
    const { req, modal, close, noshow, safe } = this.props;
    const { campaign, content } = req;
    const { step, errors, busy, failed } = this.state;
    const s = content.style ?? {};
    const layout = campaign.layout;
    const vars: Record<string, string | undefined> = {
      '--pl-bg': s.background,
      '--pl-color': s.color,
      '--pl-accent': s.accent,
      '--pl-accent-text': s.accentText,
      '--pl-font': s.font,
      '--pl-overlay': s.overlay,
      '--pl-radius': s.radius == null ? undefined : s.radius + 'px',
      '--pl-width': s.width == null ? undefined : s.width + 'px',
    };
    for (const k in vars) if (vars[k] == null) delete vars[k];
    const blocks = (step < content.steps.length ? content.steps[step] : content.success).blocks;
    const closeStyle = s.closeButton ?? 'icon';
    const box = (
      <div class="bx" role={modal ? 'dialog' : 'region'} aria-modal={modal || undefined} aria-label={content.label} tabIndex={-1}>
        {closeStyle != 'none' && (
          <button type="button" class="x" aria-label={closeStyle == 'icon' ? this.msgs.close : undefined} onClick={safe(close)}>
            {closeStyle == 'icon' ? CLOSE_ICON : this.msgs.close}
          </button>
        )}
        <form class="st" key={step} noValidate tabIndex={-1} onSubmit={safe(this.onSubmit)}>
          {blocks.map((b, i) =>
            renderBlock(b, {
              id: `f${step}-${i}`,
              error: isField(b) ? errors[keyOf(b)] : undefined,
              busy,
              close: safe(close),
              link: safe(this.link),
            }),
          )}
          {failed && <p class="fe" role="alert">{this.msgs.error}</p>}
          <div class="hp" aria-hidden="true">
            <label for={`hp${step}`}>Leave this field empty</label>
            <input id={`hp${step}`} name="pl_hp" tabIndex={-1} autocomplete="off" />
          </div>
        </form>
        {content.noshowLink !== false && (
          <button type="button" class="ns" onClick={safe(noshow)}>
            {this.msgs.noshow}
          </button>
        )}
      </div>
    );
    const where = layout.type == 'bar' || layout.type == 'slidein' ? layout.position : '';
    return (
      <div class={`r ${layout.type} ${where}`} style={vars}>
        {layout.type == 'popup' ? (
          <div class="ov" onClick={safe((e: MouseEvent) => e.target == e.currentTarget && close())}>
            {box}
          </div>
        ) : (
          box
        )}
      </div>
    );
  }
}
