// One content block → elements. Fields are uncontrolled (the step reads them from its form on
// submit); every text is a Preact text child, so it can never become markup.
import type { Block, FieldBlock } from '../../shared/campaign-content';
import { isSafeUrl } from '../../shared/campaign-content';
import { Countdown } from './countdown';
import { sanitize, type SafeNode } from './sanitize';

export interface BlockEnv {
  /** Unique id prefix of the block inside its shadow root. */
  id: string;
  /** Text of the block's validation error, if any. */
  error?: string;
  busy: boolean;
  close(): void;
  /** A tracked link: a content link, or a link button (which then closes). */
  link(href: string, closes: boolean): void;
}

/** The sign-up key of a field: its name, or its type for email and consent. */
export const keyOf = (b: FieldBlock): string => b.name ?? b.type;

function rich(nodes: SafeNode[], env: BlockEnv): preact.ComponentChildren {
  return nodes.map((n) =>
    typeof n == 'string' ? n :
    n.tag == 'a' ? <a href={n.href} target="_blank" rel="noopener noreferrer" onClick={() => env.link(n.href!, false)}>{rich(n.children, env)}</a> :
    n.tag == 'br' ? <br /> :
    (() => { const T = n.tag; return <T>{rich(n.children, env)}</T>; })(),
  );
}

function field(b: Exclude<FieldBlock, { type: 'hidden' }>, env: BlockEnv) {
  const { id, error } = env;
  const aria = { 'aria-invalid': error ? ('true' as const) : undefined, 'aria-describedby': error ? id + 'e' : undefined };
  const msg = error && <span class="er" id={id + 'e'} role="alert">{error}</span>;
  const req = b.required || undefined;
  if (b.type == 'checkbox' || b.type == 'consent')
    return (
      <div class="fd">
        <label class="ck">
          <input type="checkbox" name={keyOf(b)} value="true" required={req} {...aria} />
          <span>{b.label}</span>
        </label>
        {msg}
      </div>
    );
  return (
    <div class="fd">
      <label for={id}>{b.label}</label>
      {b.type == 'select' ? (
        <select class="in" id={id} name={b.name} required={req} {...aria}>
          <option value="" />
          {b.options.map((o) => <option value={o}>{o}</option>)}
        </select>
      ) : (
        <input
          class="in"
          id={id}
          name={keyOf(b)}
          type={b.type == 'email' ? 'email' : b.type == 'phone' ? 'tel' : 'text'}
          inputMode={b.type == 'number' ? 'decimal' : undefined}
          autocomplete={b.type == 'email' ? 'email' : b.type == 'phone' ? 'tel' : undefined}
          placeholder={b.placeholder}
          required={req}
          {...aria}
        />
      )}
      {msg}
    </div>
  );
}

export function renderBlock(b: Block, env: BlockEnv) {
  switch (b.type) {
    case 'heading':
      return <h2>{b.text}</h2>;
    case 'paragraph':
      return <p>{b.html ? rich(sanitize(b.text), env) : b.text}</p>;
    case 'image':
      return isSafeUrl(b.src) ? <img src={b.src} alt={b.alt} width={b.width} height={b.height} /> : null;
    case 'countdown':
      return <Countdown until={b.until} label={b.label} />;
    case 'button': {
      const cls = b.secondary ? 'b s' : 'b';
      if (b.action == 'link')
        return b.href && isSafeUrl(b.href) ? (
          <a class={cls} href={b.href} target={b.newTab ? '_blank' : undefined} rel={b.newTab ? 'noopener noreferrer' : undefined} onClick={() => env.link(b.href!, true)}>
            {b.label}
          </a>
        ) : null;
      if (b.action == 'close') return <button type="button" class={cls} onClick={env.close}>{b.label}</button>;
      return <button type="submit" class={cls} data-a={b.action} aria-disabled={env.busy || undefined}>{b.label}</button>;
    }
    case 'hidden':
      return null;
    default:
      return field(b, env);
  }
}
