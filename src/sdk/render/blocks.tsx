// One content block → elements. Fields are uncontrolled (the step reads them from its form on
// submit); every text is a Preact text child, so it can never become markup. Attributes stand in
// the order that gzips smallest, which says nothing else.
/** @jsxRuntime classic */
/** @jsx h */
import { h, type ComponentChildren } from 'preact';
import type { Block, FieldBlock } from '../../shared/campaign-content';
import { isSafeUrl } from '../../shared/campaign-content';
import { SIGNUP_LIMITS } from '../../shared/signup';
import { formatLeft } from './countdown';
import { sanitize, type SafeNode } from './sanitize';

export interface BlockEnv {
  /** Unique id prefix of the block inside its shadow root. */
  idPrefix: string;
  /** Text of the block's validation error, if any. */
  errorText?: string;
  /** What the visitor gave the field before (a step drawn again), shown as it starts. */
  given?: string;
  /** A select's empty choice when the field sets no placeholder (`messages.choose`). */
  chooseText: string;
  busy?: boolean;
  /** A countdown is drawn: the campaign must be drawn again every second from now on. */
  tick(): void;
  dismiss(): void;
  /** A tracked link: a content link, or a link button (which then closes). */
  follow(href: string, closes: boolean): void;
}

/** The sign-up key of a field: its name, or its type for email and consent. */
export const keyOf = (b: FieldBlock): string => b.name || b.type;

const NEW_TAB = { target: '_blank', rel: 'noopener noreferrer' };

function rich(nodes: SafeNode[], env: BlockEnv): ComponentChildren {
  return nodes.map((n) =>
    typeof n == 'string' ? n : h(n.tag, n.href ? { href: n.href, ...NEW_TAB, onClick: () => env.follow(n.href!, false) } : null, rich(n.kids, env)),
  );
}

function field(b: Exclude<FieldBlock, { type: 'hidden' }>, { idPrefix: id, errorText: error, given: v, chooseText: choose }: BlockEnv) {
  const t = b.type;
  // Keys in the order that gzips smallest.
  const attrs = {
    name: keyOf(b),
    // A sign-up is its email: that field is required whatever the campaign says. Not the native
    // `required` (the form checks fields itself): it exposes a field not yet filled as invalid.
    'aria-required': t == 'email' || b.required,
    'aria-describedby': error && id + 'e',
    id,
    'aria-invalid': (error && true) as true | undefined,
  };
  const check = t == 'checkbox' || t == 'consent';
  // A required field's label ends in a star for the eye (WCAG 3.3.2); screen readers, which hear
  // aria-required, get no "star" in its name.
  const mark = attrs['aria-required'] && <span aria-hidden> *</span>;
  // Input types that are also autocomplete tokens.
  const type = t == 'email' ? t : t == 'phone' ? 'tel' : 'text';
  return (
    <div class="fd">
      {check ? (
        <label class="ck">
          {/* v is '' or 'true', which the property takes as false or true. */}
          <input type="checkbox" value="true" defaultChecked={v as never} {...attrs} />
          <span>{b.label}{mark}</span>
        </label>
      ) : (
        <label for={id}>{b.label}{mark}</label>
      )}
      {t == 'select' ? (
        <select class="in" {...attrs}>
          <option selected hidden={b.required} disabled={b.required} value="">
            {b.placeholder || choose}
          </option>
          {b.options.map((o) => <option selected={o == v}>{o}</option>)}
        </select>
      ) : check ? null : (
        <input
          type={type}
          class="in"
          autocomplete={type == 'text' ? (b as { autocomplete?: string }).autocomplete : type}
          inputMode={t == 'number' ? 'decimal' : undefined}
          // What the server takes: longer is refused, so it cannot be typed (a long email fails its format).
          maxLength={SIGNUP_LIMITS.value}
          placeholder={b.placeholder}
          defaultValue={v}
          {...attrs}
        />
      )}
      {error && <span class="er" id={id + 'e'} role="alert">{error}</span>}
    </div>
  );
}

export function renderBlock(b: Block, env: BlockEnv) {
  const t = b.type;
  if (t == 'heading') return <h2>{b.text}</h2>;
  if (t == 'paragraph') return <p>{b.html ? rich(sanitize(b.text), env) : b.text}</p>;
  if (t == 'image') return isSafeUrl(b.src) && <img src={b.src} height={b.height} alt={b.alt} width={b.width} />;
  // role=timer is not announced on every tick (implicit aria-live off); the label names it.
  if (t == 'countdown')
    return (
      env.tick(),
      <div>
        {b.label && <p>{b.label}</p>}
        <div class="cd" role="timer" aria-label={b.label}>
          {formatLeft(Date.parse(b.until) - Date.now())}
        </div>
      </div>
    );
  if (t != 'button') return t != 'hidden' && field(b, env);
  const cls = b.secondary ? 'b s' : 'b';
  if (b.action == 'link')
    return isSafeUrl(b.href!) && <a class={cls} href={b.href} {...(b.newTab && NEW_TAB)} onClick={() => env.follow(b.href!, true)}>{b.label}</a>;
  return b.action == 'close' ? (
    <button type="button" class={cls} onClick={env.dismiss}>{b.label}</button>
  ) : (
    <button type="submit" aria-disabled={env.busy || undefined} data-a={b.action} class={cls}>{b.label}</button>
  );
}
