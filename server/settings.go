package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/workers"
)

// --- settings ------------------------------------------------------------

type settingsView struct {
	AutoReconnect   bool                      `json:"auto_reconnect"`
	AllowClaimed    bool                      `json:"allow_claimed"`
	NotifyArrivals  bool                      `json:"notify_arrivals"`
	NotifyPeriod    string                    `json:"notify_period"`
	NotifyChannel   string                    `json:"notify_channel"`
	ResearchConsent bool                      `json:"research_consent"`
	ShowName        bool                      `json:"show_name"`
	Locale          string                    `json:"locale"`
	Accounts        map[engine.Network]string `json:"accounts"`
}

func settingsOf(info *engine.MemberInfo) settingsView {
	return settingsView{AutoReconnect: info.AutoReconnect, AllowClaimed: info.AllowClaimed, NotifyArrivals: info.NotifyArrivals,
		NotifyPeriod: info.NotifyPeriod, NotifyChannel: string(info.NotifyChannel), ResearchConsent: info.ResearchConsent,
		ShowName: info.ShowName, Locale: info.Locale, Accounts: info.Accounts}
}

func (w *Web) settingsData(c *gin.Context) (any, error) {
	s, _ := sessionOf(c)
	info, err := w.Store.MemberInfo(c.Request.Context(), s.Member)
	if err != nil {
		return nil, err
	}
	return settingsOf(info), nil
}

// saveSettings writes the settings form: a checkbox absent is off.
func (w *Web) saveSettings(c *gin.Context) {
	s, _ := sessionOf(c)
	defer w.forget(s.Member)
	on := func(k string) *bool { v := c.PostForm(k) != ""; return &v }
	str := func(k string) *string {
		v, ok := c.GetPostForm(k)
		if !ok {
			return nil
		}
		return &v
	}
	set := engine.Settings{AutoReconnect: on("auto_reconnect"), AllowClaimed: on("allow_claimed"),
		NotifyArrivals: on("notify_arrivals"), ResearchConsent: on("research_consent"), ShowName: on("show_name"),
		NotifyPeriod: str("notify_period"), NotifyChannel: str("notify_channel"), Locale: str("locale")}
	if err := w.Store.SetSettings(c.Request.Context(), s.Member, set); err != nil {
		w.error(c, err)
		return
	}
	if set.Locale != nil {
		w.setCookie(c, langCookie, *set.Locale, 365*24*3600)
	}
	w.done(c, "/settings?notice=notice.saved", gin.H{"saved": true})
}

// --- leaving -------------------------------------------------------------

// deleteMe erases everything of the member, as DESIGN.md says: their
// archives' facts, claims, accounts and sealed tokens, settings; then
// signs them out. The confirmation field must say the word.
func (w *Web) deleteMe(c *gin.Context) {
	s, _ := sessionOf(c)
	defer w.forget(s.Member)
	if c.PostForm("confirm") != "delete" {
		w.fail(c, http.StatusBadRequest, "error.delete_confirm", nil)
		return
	}
	ctx := c.Request.Context()
	if b, err := w.Redis.Get(ctx, planKey(s.Member)).Bytes(); err == nil {
		var plan workers.ReconnectPlan
		if json.Unmarshal(b, &plan) == nil {
			for _, np := range plan.Networks {
				for _, id := range np.Tasks {
					_ = w.Inspector.DeleteTask(workers.QueueDefault, id)
				}
			}
		}
	}
	w.revokeAll(ctx, s.Member)
	if err := w.Store.DeleteMember(ctx, s.Member, "member:"+s.Member); err != nil && engine.ErrorCode(err) != engine.ENOTFOUND {
		w.error(c, err)
		return
	}
	w.Redis.Del(ctx, planKey(s.Member))
	w.setCookie(c, sessionCookie, "", -1)
	w.done(c, "/?notice=notice.deleted", gin.H{"deleted": true})
}

// revokeAll ends the sessions Passerelle holds for the member's accounts.
// A network that can't be reached is logged: the sealed tokens are erased
// with the member anyway, and nothing can open them again.
func (w *Web) revokeAll(ctx context.Context, member string) {
	info, err := w.Store.MemberInfo(ctx, member)
	if err != nil {
		return
	}
	for n, account := range info.Accounts {
		sealed, err := w.Store.Credentials(ctx, member, n, account)
		if err != nil {
			continue
		}
		plain, err := w.Box.Open(sealed, engine.CredentialsContext(member, account))
		if err != nil {
			continue
		}
		var c engine.Credentials
		if json.Unmarshal([]byte(plain), &c) != nil {
			continue
		}
		switch r, ok := w.Bluesky.(engine.Revoker); {
		case n == engine.Bluesky && ok:
			err = r.Revoke(ctx, c)
		case n == engine.Mastodon && w.MastodonOAuth != nil && c.Token != "":
			var app *engine.OAuthApp
			if app, err = w.Store.App(ctx, w.MastodonOAuth, w.Box, strings.TrimRight(c.Host, "/"), w.callbackURL()); err == nil {
				err = w.MastodonOAuth.RevokeToken(ctx, app, c.Token)
			}
		}
		if err != nil {
			w.Log.Warn("revoke", "member", member, "network", n, "err", err)
		}
	}
}

// --- admin ---------------------------------------------------------------

func (w *Web) adminData(c *gin.Context) (any, error) {
	return w.Store.Conflicts(c.Request.Context())
}

func (w *Web) apiSettings(c *gin.Context) {
	v, err := w.settingsData(c)
	if err != nil {
		w.error(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (w *Web) apiConflicts(c *gin.Context) {
	v, err := w.adminData(c)
	if err != nil {
		w.error(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
