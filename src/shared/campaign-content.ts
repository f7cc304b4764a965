// Presentation half of the campaign schema: layout, blocks, styling.
// Rendered by the UI chunk (src/sdk/render). Plain JSON shapes.

export type Layout =
  | { type: 'popup' }
  | { type: 'bar'; position: 'top' | 'bottom'; push?: boolean }
  | { type: 'slidein'; position: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right' }
  | { type: 'embed'; selector: string }
  | { type: 'fullscreen' };

export type FieldBlock =
  | { type: 'email'; name?: string; label: string; placeholder?: string; required?: boolean }
  | { type: 'text' | 'phone' | 'number'; name: string; label: string; placeholder?: string; required?: boolean }
  | { type: 'select'; name: string; label: string; options: string[]; required?: boolean }
  | { type: 'checkbox'; name: string; label: string; required?: boolean }
  /** Consent checkbox: its text is stored with the sign-up. */
  | { type: 'consent'; name?: string; label: string; required?: boolean }
  /** Hidden field, filled from a custom property (dot path) or a UTM parameter of the session. */
  | { type: 'hidden'; name: string; from: string };

export type Block =
  | { type: 'heading'; text: string }
  /** `html: true` means the text is a tiny safe subset (b, strong, i, em, a[href], br), sanitized. */
  | { type: 'paragraph'; text: string; html?: boolean }
  | { type: 'image'; src: string; alt: string; width?: number; height?: number }
  | { type: 'button'; label: string; action: 'link' | 'close' | 'next' | 'submit'; href?: string }
  | { type: 'countdown'; until: string; label?: string }
  | FieldBlock;

export interface Step {
  blocks: Block[];
}

export interface Style {
  background?: string;
  color?: string;
  accent?: string; // button background
  accentText?: string;
  font?: string;
  radius?: number; // px
  width?: number; // px, max width of popups and slide-ins
  overlay?: string; // overlay colour
  closeButton?: 'icon' | 'text' | 'none';
}

export interface Content {
  /** Accessible name of the dialog. */
  label: string;
  /** One or more steps; a form submit or a `next` button moves on. */
  steps: Step[];
  /** Shown after a sign-up is stored or safely queued. */
  success: Step;
  style?: Style;
  /** Show the "Don't show popups again" link. Default true. */
  noshowLink?: boolean;
  /** Message texts, any language. */
  messages?: Partial<Record<'required' | 'email' | 'phone' | 'number' | 'close' | 'noshow' | 'error', string>>;
}
