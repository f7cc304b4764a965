// Property names the builds shorten (esbuild mangleProps, esbuild.config.ts). A quoted key
// ('name' in x, x['name']) is not shortened: none of these is ever read that way. None is a key
// of campaign JSON, a stored record, the wisepops() API, an event detail, the debug output or
// the DOM.

/**
 * Keys of the core's own objects, which never leave it: the store's methods and the backends' del,
 * the armed triggers and their page view's state, the compiled campaign set and its decision, the
 * engine's refresh, the state record's consent as read. esbuild names them in the core build
 * alone. Never a name of the DOM or a built-in, which a later change could call (a candidate's
 * `group`: console.group; EngineDeps' `reload`: location.reload): the unit test checks.
 */
const CORE_KEYS = 'del peek configure one off dispose kept since py ay win doc isMobile ranked bad drawn eligible refresh granted last'.split(' ');

/**
 * Keys of what the core hands the collection chunk (CollectKit, EngineDeps) or calls on it
 * (Collect's `flush`) and of nothing else in either: shortened in both builds to these fixed names, so the two agree (the UI chunk meets
 * none of them). `$`: no other key in the bundles starts with one.
 */
const KIT_KEYS: Record<string, string> = { deps: '$d', ctx: '$c', record: '$r', markSignedUp: '$m', visitorId: '$v', update: '$u', emit: '$e', activity: '$a', flush: '$f', serialize: '$s' };

/**
 * Keys of the UI chunk's own objects: App's props, state and fields, Guard's, a block's BlockEnv,
 * sanitize's nodes. Not the UiHost and ShowRequest contract (the collection chunk and the core
 * hold the other end), the messages (campaign JSON), Preact's props and options, nor a DOM
 * property or attribute: the build renames a key in every object of the chunk, an element's
 * props included. The chunk's own keys are named apart from those (App's `stepIndex`, not `step`,
 * an input's property; BlockEnv's `errorText`, not `error`, a key of `messages`), so that they
 * can be shortened.
 */
const UI_KEYS = 'req modal safe focusStep stepIndex errors busy failed given honeypot stepOf msgs sendStep toStep dismiss optOut fail idPrefix errorText chooseText tick follow tag kids'.split(' ');

/**
 * Preact's internal keys (its own build shortened them to these): bundled whole in the UI chunk,
 * Preact reads and writes them only as `x.__k` or `{ __k: … }`, so each is renamed everywhere at
 * once. Its `'__d' + random` and `'__a' + random` event keys are other, longer names, left as they
 * are. One lands on the DOM, the key Preact keeps on the element it renders into: esbuild picks
 * names no property in the chunk uses, and render-safety.test.ts checks the dialog and the div
 * have no property of that name.
 */
const PREACT_KEYS = '__ __E __P __b __c __d __e __h __i __k __m __n __r __s __u __v'.split(' ');

const mangle = (keys: string[]) => ({ mangleProps: new RegExp(`^(${keys.join('|')})$`), mangleCache: { ...KIT_KEYS } });
/** esbuild options of the core build. */
export const coreMangle = () => mangle([...CORE_KEYS, ...Object.keys(KIT_KEYS)]);
/** esbuild options of the collection chunk's build. */
export const collectMangle = () => mangle(Object.keys(KIT_KEYS));
/** esbuild options of the UI chunk's build. */
export const uiMangle = () => mangle([...UI_KEYS, ...PREACT_KEYS]);
