// Smoke scenario: chromium opens /healthz of a running passerelle, which
// answers {"status":"ok"}, and takes its picture (smoke-healthz.png).
import { main, step, shot, expect, url } from './lib.mjs';

await main(async ({ page }) => {
  const res = await step('open /healthz', () => page.goto(url('/healthz')));
  await step('check the answer', async () => {
    expect(res && res.status(), 'the HTTP status of /healthz').toBe(200);
    expect(await page.textContent('body'), 'the body of /healthz').toContain('"ok"');
  });
  await shot(page, 'smoke-healthz');
});
