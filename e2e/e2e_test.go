package e2e_test

import (
	"testing"

	"github.com/passerelle-social/passerelle/e2e"
)

// TestSmoke starts the real `passerelle serve` on the test services and has
// headless chromium open /healthz (smoke.mjs): the browser tooling works end
// to end. Its screenshot is .local/screenshots/TestSmoke/smoke-healthz.png.
func TestSmoke(t *testing.T) {
	e2e.RequireBrowser(t)
	url := e2e.StartServe(t)
	e2e.RunScenario(t, url, "smoke.mjs")
}
