// Sign-in through atproto OAuth in the browser: the handle on our page,
// then the local PDS's own authorization page (its sign-in form and its
// "Authorize" button), then back to our site. Used by web.mjs when OAUTH=1.
export async function signInWithOAuth(page, url, handle, password) {
  await page.goto(url('/signin'));
  await page.fill('#handle', handle);
  await Promise.all([page.waitForURL(/\/oauth\/authorize/), page.click('form[action="/signin/bluesky/oauth"] button[type=submit]')]);
  // The PDS's page (a React app of @atproto/oauth-provider).
  const pass = page.locator('input[type=password]');
  await pass.waitFor({ timeout: 20000 });
  const user = page.locator('input[name=username], input[autocomplete=username]').first();
  if (await user.count() && !(await user.inputValue())) await user.fill(handle);
  await pass.fill(password);
  await page.getByRole('button', { name: /^(sign in|next)$/i }).click();
  await page.getByRole('button', { name: /^(authorize|accept|allow)$/i }).click({ timeout: 20000 });
  await page.waitForURL(/127\.0\.0\.1:\d+\/(upload|reconnections)/, { timeout: 20000 });
}
