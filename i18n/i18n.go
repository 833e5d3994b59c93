// Package i18n holds Passerelle's texts in every language it speaks, as
// catalog files (locales/<lang>.json, go-i18n's format: a key maps to a
// text, or to its plural forms), and picks a language for a person.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"sync"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/passerelle-social/passerelle/engine"
)

//go:embed locales/*.json
var catalogs embed.FS

// Catalog is every language's texts. Safe for concurrent use.
type Catalog struct {
	bundle *goi18n.Bundle
	plain  sync.Map // lang + "\x00" + key → text, for texts without data
}

// Load reads the embedded catalogs of engine.Locales.
func Load() (*Catalog, error) {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	for _, l := range engine.Locales {
		if _, err := b.LoadMessageFileFS(catalogs, path.Join("locales", l+".json")); err != nil {
			return nil, fmt.Errorf("i18n: catalog %s: %w", l, err)
		}
	}
	return &Catalog{bundle: b}, nil
}

// MustLoad is Load for program start: the catalogs are embedded, so an
// error is a bug caught by the tests.
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Texts is one person's view of the catalog: their languages, in order of
// preference (a locale, or an Accept-Language header), English last.
type Texts struct {
	l    *goi18n.Localizer
	c    *Catalog
	lang string
}

// For returns the texts for the given languages.
func (c *Catalog) For(langs ...string) Texts {
	t := Texts{l: goi18n.NewLocalizer(c.bundle, append(langs, "en")...), c: c}
	t.lang = t.resolve()
	return t
}

// T returns the text of key with data filled in ({{.Name}} in the text).
// A missing key shows as the key itself, never as an empty page: the
// catalog test fails on it first. Texts without data are rendered once
// per language.
func (t Texts) T(key string, data map[string]any) string {
	if data == nil && t.c != nil {
		if s, ok := t.c.plain.Load(t.lang + "\x00" + key); ok {
			return s.(string)
		}
	}
	s, err := t.l.Localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: data})
	if err != nil {
		return key
	}
	if data == nil && t.c != nil {
		t.c.plain.Store(t.lang+"\x00"+key, s)
	}
	return s
}

// N returns the plural form of key for count; {{.Count}} in the text is
// count.
func (t Texts) N(key string, count int, data map[string]any) string {
	d := map[string]any{"Count": count}
	for k, v := range data {
		d[k] = v
	}
	s, err := t.l.Localize(&goi18n.LocalizeConfig{MessageID: key, PluralCount: count, TemplateData: d})
	if err != nil {
		return key
	}
	return s
}

// Lang returns the language the texts are in: the first of the person's
// languages the catalog has.
func (t Texts) Lang() string { return t.lang }

func (t Texts) resolve() string {
	_, tag, err := t.l.LocalizeWithTag(&goi18n.LocalizeConfig{MessageID: "lang.name"})
	if err != nil {
		return "en"
	}
	base, _ := tag.Base()
	return base.String()
}
