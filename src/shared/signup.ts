// The sign-up: what the browser posts to POST /collect, and what the Email API and hooks return.
// Validator: validateSignup (below, owned by the server work) is used by the server; the browser
// only builds these.

export interface SignupPayload {
  /** nanoid made in the browser before the first send: the server deduplicates on it. */
  id: string;
  site: string;
  /** Campaign id. */
  wisepop_id: number;
  email: string;
  /** Every other form field, by field name (the Email API's `other_fields`). */
  fields: Record<string, string>;
  /** The consent checkbox's text when it was ticked; absent when the form had none. */
  consent?: string;
  /** Honeypot: must be empty; a filled one is accepted with 200 and dropped. */
  hp?: string;
  variant?: string;
}

/** One row of GET /api1/emails and of a hook payload (the seed's shape, to the letter). */
export interface EmailRow {
  collected_at: string;
  email: string;
  wisepop_id: number;
  ip: string;
  country_code: string | null;
  other_fields: Record<string, string>;
}

/** 200/201 answer of POST /collect. */
export interface CollectResponse {
  id: string;
  collected_at: string;
}
