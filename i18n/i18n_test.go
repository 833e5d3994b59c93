package i18n

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/passerelle-social/passerelle/engine"
)

// catalog reads one language's catalog file as key → text or plural forms.
func catalog(t *testing.T, lang string) map[string]any {
	t.Helper()
	b, err := catalogs.ReadFile("locales/" + lang + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s.json: %v", lang, err)
	}
	return m
}

// TestEveryKeyInEveryLanguage fails when a language lacks a key that
// English has, or has one English lacks (a typo, or a text left behind).
func TestEveryKeyInEveryLanguage(t *testing.T) {
	en := catalog(t, "en")
	for _, lang := range engine.Locales {
		c := catalog(t, lang)
		for k := range en {
			if _, ok := c[k]; !ok {
				t.Errorf("%s.json: missing key %q", lang, k)
			}
		}
		for k := range c {
			if _, ok := en[k]; !ok {
				t.Errorf("%s.json: key %q is not in en.json", lang, k)
			}
		}
	}
}

// TestEveryTextRenders renders every key in every language, plurals with
// counts that pick each form (French, Spanish, Italian and Portuguese have
// a "many" form for millions), and checks that the data lands in the text.
func TestEveryTextRenders(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]any{"Name": "@alice.test", "Network": "Bluesky", "XName": "alice", "URL": "http://127.0.0.1:8080/",
		"MB": 25, "Detail": "x", "Host": "example.social", "From": 1, "To": 100, "Total": 250}
	keys := slices.Sorted(maps.Keys(catalog(t, "en")))
	for _, lang := range engine.Locales {
		tx := c.For(lang)
		if got := tx.Lang(); got != lang {
			t.Errorf("For(%q).Lang() = %q", lang, got)
		}
		for _, k := range keys {
			if _, plural := catalog(t, lang)[k].(map[string]any); plural {
				for _, n := range []int{0, 1, 2, 5, 21, 1000000} {
					s := tx.N(k, n, data)
					if s == k || !strings.Contains(s, strconv.Itoa(n)) {
						t.Errorf("%s %s(%d) = %q", lang, k, n, s)
					}
				}
				continue
			}
			if s := tx.T(k, data); s == k || s == "" || strings.Contains(s, "{{") || strings.Contains(s, "<no value>") {
				t.Errorf("%s %s = %q", lang, k, s)
			}
		}
	}
}

func TestLanguageChoice(t *testing.T) {
	c := MustLoad()
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"fr-FR,fr;q=0.9,en;q=0.8"}, "fr"},
		{[]string{"de"}, "de"},
		{[]string{"pt-BR"}, "pt"},
		{[]string{"ja", "it"}, "it"},
		{[]string{"xx"}, "en"},
		{nil, "en"},
	} {
		if got := c.For(tc.in...).Lang(); got != tc.want {
			t.Errorf("For(%q).Lang() = %q, want %q", tc.in, got, tc.want)
		}
	}
}
