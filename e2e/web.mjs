// The web UI's main scenario, in a real browser: sign in on the local PDS
// with an app password, turn auto-reconnect off, upload an archive, watch
// its import reach 100%, see the matches, reconnect all and watch the
// follows being made. Every page is photographed (and the reconnections
// page again at 360 px wide, and the landing page in French).
// Env: PDS_URL, PDS_HANDLE, PDS_PASSWORD, ARCHIVE (a ZIP), TARGETS (how many
// matches the archive has); OAUTH=1 signs in through atproto OAuth and the
// PDS's own authorization page instead of the app-password form.
import { main, step, shot, expect, url, accessible } from './lib.mjs';
import { signInWithOAuth } from './oauth.mjs';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};

await main(async ({ page, context }) => {
  await step('landing', async () => {
    await page.goto(url('/'));
    expect(await page.textContent('h1'), 'the landing title').toContain('Leave X');
    await shot(page, '01-landing');
    await accessible(page, '01-landing');
    await page.goto(url('/?lang=fr'));
    expect(await page.getAttribute('html', 'lang'), 'the page language').toBe('fr');
    await shot(page, '02-landing-fr');
    await accessible(page, '02-landing-fr');
    await page.goto(url('/?lang=en'));
  });
  await step('privacy', async () => {
    await page.goto(url('/privacy'));
    await shot(page, '03-privacy');
    await accessible(page, '03-privacy');
  });
  await step('sign in', async () => {
    await page.goto(url('/signin'));
    await shot(page, '04-signin');
    await accessible(page, '04-signin');
    if (process.env.OAUTH === '1') {
      await signInWithOAuth(page, url, env('PDS_HANDLE'), env('PDS_PASSWORD'));
      expect(page.url(), 'where the sign-in lands').toMatch(/\/upload$/);
      await shot(page, '05-upload');
      return;
    }
    // The app-password form sits under the OAuth one, folded.
    if (await page.locator('details summary').count()) await page.click('details summary');
    await page.fill('#host', env('PDS_URL'));
    await page.fill('#identifier', env('PDS_HANDLE'));
    await page.fill('#password', env('PDS_PASSWORD'));
    await Promise.all([page.waitForURL(/\/upload$/), page.click('form[action="/signin/bluesky"] button[type=submit]')]);
    await shot(page, '05-upload');
    await accessible(page, '05-upload');
  });
  await step('settings: auto-reconnect off', async () => {
    await page.goto(url('/settings'));
    await page.uncheck('input[name=auto_reconnect]');
    await Promise.all([page.waitForURL(/notice=notice.saved/), page.click('form[action="/settings"] button[type=submit]')]);
    expect(await page.isChecked('input[name=auto_reconnect]'), 'auto-reconnect').toBe(false);
    await shot(page, '06-settings');
    await accessible(page, '06-settings');
  });
  await step('upload the archive', async () => {
    await page.goto(url('/upload'));
    await page.setInputFiles('#archive', env('ARCHIVE'));
    await Promise.all([page.waitForURL(/\/imports\//, { timeout: 60000 }), page.click('#upload-form button[type=submit]')]);
  });
  await step('import reaches 100%', async () => {
    await page.waitForSelector('#import-done:not([hidden])', { timeout: 60000 });
    expect(await page.textContent('#import-percent .percent'), 'the import percentage').toBe('100');
    await shot(page, '07-import-done');
    await accessible(page, '07-import-done');
  });
  await step('see the matches', async () => {
    await Promise.all([page.waitForURL(/\/reconnections/), page.click('#import-done a')]);
    const rows = await page.locator('#pick tbody tr').count();
    expect(rows, 'reconnection rows').toBe(Number(env('TARGETS')));
    await shot(page, '08-reconnections');
    await accessible(page, '08-reconnections');
  });
  await step('reconnect all, watch the progress', async () => {
    await Promise.all([page.waitForURL(/notice=notice.queued/), page.click('#reconnect-all')]);
    await page.waitForSelector('#rec-progress[data-done="1"]', { timeout: 90000 });
    expect(await page.textContent('#rec-progress .done'), 'follow tasks done').toBe(await page.textContent('#rec-progress .tasks'));
    await page.goto(url('/reconnections?network=bluesky'));
    const followed = await page.locator('#pick tbody tr', { hasText: 'followed' }).count();
    expect(followed, 'rows marked followed').toBe(Number(env('TARGETS')));
    await shot(page, '09-reconnected');
    await accessible(page, '09-reconnected');
  });
  await step('narrow screen', async () => {
    const narrow = await context.newPage();
    await narrow.setViewportSize({ width: 360, height: 740 });
    await narrow.goto(url('/reconnections'));
    const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth);
    expect(overflow <= 360, `page width at 360 px (${overflow})`).toBe(true);
    await shot(narrow, '10-reconnections-360px');
    await accessible(narrow, '10-reconnections-360px');
    await narrow.close();
  });
  await step('keyboard: the skip link and the first control take focus', async () => {
    await page.goto(url('/settings'));
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement.className), 'first focus').toBe('skip');
  });
  await step('the other pages', async () => {
    await page.goto(url('/delete'));
    await shot(page, '11-delete');
    await accessible(page, '11-delete');
    await page.goto(url('/admin'));
    await shot(page, '12-admin');
    await accessible(page, '12-admin');
    await page.goto(url('/imports/up_000000000000000000000000.zip'));
    await shot(page, '13-not-found');
    await accessible(page, '13-not-found');
  });
}, { timeout: 20000 });
