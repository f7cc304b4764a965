// End-to-end journey 7: the visitor submits while the collection server is down; once it is back
// (same port, same data dir) the sign-up arrives exactly once, in the Email API and in the hook.
import { expect, it } from 'vitest';
import { campaignBox, eventually, newVisitor, withStack } from '../helpers/stack';

const WELCOME = 1001;

const env = withStack();

it('7. a sign-up submitted while the server is stopped arrives exactly once after it restarts', async () => {
  const v = await newVisitor(env.browser);
  const email = `j7-${Date.now()}@example.com`;
  await v.page.goto(`${env.stack.site.url}/`);
  const box = campaignBox(v.page, WELCOME);
  await box.waitFor({ state: 'visible', timeout: 10_000 });

  await env.stack.stopServer();
  await expect(fetch(`${env.stack.serverUrl}/healthz`)).rejects.toThrow();
  await box.getByRole('textbox', { name: 'Email', exact: true }).fill(email);
  await box.getByRole('checkbox').check();
  await box.getByRole('button', { name: 'Send me the code' }).click();
  // Safely queued in the outbox counts as done for the visitor.
  await box.getByText('Check your inbox', { exact: true }).waitFor({ state: 'visible', timeout: 15_000 });
  expect(await v.page.evaluate(() => localStorage.getItem('poplet_outbox') ?? '')).toContain(email);

  await env.stack.restartServer();
  // The next page view retries the outbox.
  await v.page.goto(`${env.stack.site.url}/product`);
  await eventually(async () => ((await env.stack.emails()).some((r) => r.email === email) ? true : undefined), 15_000, 'the queued sign-up', 500);

  // More page views and time for any stray retry: still exactly one row and one hook delivery.
  await v.page.goto(`${env.stack.site.url}/pricing`);
  await v.page.waitForTimeout(1500);
  await v.page.reload();
  await v.page.waitForTimeout(1500);
  expect((await env.stack.emails()).filter((r) => r.email === email)).toHaveLength(1);
  expect(await v.page.evaluate(() => localStorage.getItem('poplet_outbox') ?? '')).not.toContain(email);
  const delivered = await eventually(() => {
    const rows = env.stack.site.hooks.flatMap((h) => (Array.isArray(h.payload) ? (h.payload as Array<{ email: string }>) : []));
    const mine = rows.filter((r) => r.email === email);
    return mine.length ? mine : undefined;
  }, 8000, 'the hook delivery');
  expect(delivered).toHaveLength(1);
  expect(env.stack.site.hooks.every((h) => h.valid)).toBe(true);

  // The browser itself logs the refused connections while the server was down; nothing else.
  expect(v.errors.filter((e) => !/net::ERR_CONNECTION_REFUSED/.test(e))).toEqual([]);
  await v.context.close();
});
